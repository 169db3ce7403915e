/// The live nodes of the cluster, as this node sees them, and this node's place among
/// them (`join`).
///
/// How the live set is kept (see Protocol/cluster.md, "Membership"): every lease renewal
/// also scores the node in a sorted set, `<prefix>:nodes`, by the lease's expiry in Redis
/// server time. Each node reads the set every `pollIntervalMilliseconds` with a script
/// that first drops the entries whose expiry has passed, so a node whose lease lapsed
/// (its death) is seen gone within `lease + poll interval` of its last renewal. Joins and
/// graceful leaves are also announced on `<prefix>:node-events`, which makes the others
/// read at once; a missed announcement costs at most one poll interval.
///
/// Why a sorted set rather than SCAN over the lease keys, or keyspace notifications:
/// one `ZRANGE` is one round trip whatever else the server holds (SCAN walks the whole
/// keyspace, in many round trips, and is not atomic), its scores use Redis's one clock
/// (nodes' clocks never matter), and it needs no server configuration (expiry
/// notifications need `notify-keyspace-events` and fire only when Redis gets round to
/// evicting the key).
///
/// It uses two connections: `commands` for the scripts, and `events` as the subscriber
/// (a subscribed Redis connection takes no other commands).
///
/// Confined to the connections' loop. `@unchecked Sendable`: state touched only there.
public final class ClusterMembership: @unchecked Sendable {
    public let commands: RedisConnection
    public let events: RedisConnection
    public let keys: ClusterKeys
    public let leaseMilliseconds: Int64
    public let pollIntervalMilliseconds: Int64
    /// Told of each change in the live set, on the loop thread.
    public var onChange: ((MembershipChange) -> Void)?
    /// This node's lease, once joined.
    public private(set) var lease: NodeLease?
    /// Reads of the index so far (successful ones).
    public private(set) var reads = 0

    private var view: MembershipView
    private var pollTimer: ClusterLoop.TimerID?
    private var isReadInFlight = false
    /// A read was asked for while one was in flight (an announcement may postdate it).
    private var isReadWanted = false
    private var isWatching = false

    /// - Parameters:
    ///   - leaseMilliseconds: the lease of every node (and of this one, if it joins).
    ///   - pollIntervalMilliseconds: how often the index is read (default one second).
    public init(commands: RedisConnection, events: RedisConnection, keys: ClusterKeys, leaseMilliseconds: Int64 = 5_000, pollIntervalMilliseconds: Int64 = 1_000) {
        precondition(commands !== events, "membership needs a separate subscriber connection")
        self.commands = commands
        self.events = events
        self.keys = keys
        self.leaseMilliseconds = leaseMilliseconds
        self.pollIntervalMilliseconds = pollIntervalMilliseconds
        view = MembershipView(graceMilliseconds: leaseMilliseconds + pollIntervalMilliseconds)
    }

    /// The live nodes, ascending.
    public var members: [NodeID] { view.members }

    /// Drops expired entries, then lists the live ones. KEYS: index.
    static let readScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('(%.0f', now))
        return redis.call('ZRANGE', KEYS[1], 0, -1)
        """

    /// Starts watching the live set: subscribes to the announcements and reads the index
    /// every poll interval (and at once after each reconnect, with a grace for absences).
    /// Starts both connections if they are not started.
    public func start() {
        precondition(commands.loop.isOnLoopThread, "ClusterMembership.start off its loop")
        guard !isWatching else { return }
        isWatching = true
        commands.observeState { [weak self] state in
            guard let self, state == .connected else { return }
            self.view.reconnected(now: self.commands.loop.now)
            self.read()
        }
        events.subscribe(keys.memberEvents, onSubscribed: { [weak self] in self?.read() }, onMessage: { [weak self] _ in self?.read() })
        commands.start()
        events.start()
        schedulePoll()
    }

    /// Stops watching (the connections stay open; the lease, if any, is not touched).
    public func stop() {
        isWatching = false
        if let t = pollTimer { commands.loop.cancel(t) }
        pollTimer = nil
    }

    /// Joins the cluster: takes a node id from `<prefix>:node-seq` and the lease for it
    /// (another id if a node already holds that one, which only happens after Redis lost
    /// its data), then announces `join <id>`. Needs `commands` connected.
    public func join(completion: @escaping (Result<NodeLease, ClusterError>) -> Void) {
        precondition(commands.loop.isOnLoopThread, "ClusterMembership.join off its loop")
        join(triesLeft: 16, completion: completion)
    }

    private func join(triesLeft: Int, completion: @escaping (Result<NodeLease, ClusterError>) -> Void) {
        guard triesLeft > 0 else {
            completion(.failure(.unexpectedReply("no free node id after 16 tries")))
            return
        }
        commands.send(["INCR", keys.nodeSequence]) { [weak self] result in
            guard let self else { return }
            let id: NodeID
            switch result {
            case .success(.integer(let n)) where n > 0 && n <= Int64(UInt32.max):
                id = NodeID(UInt32(n))
            case .success(let other):
                completion(.failure(.unexpectedReply("INCR \(self.keys.nodeSequence): \(other)")))
                return
            case .failure(let e):
                completion(.failure(e))
                return
            }
            let lease = NodeLease(connection: self.commands, keys: self.keys, node: id, leaseMilliseconds: self.leaseMilliseconds)
            lease.start { [weak self] outcome in
                guard let self else { return }
                switch outcome {
                case .held:
                    self.lease = lease
                    self.commands.send(["PUBLISH", self.keys.memberEvents, "join \(id)"]) { _ in }
                    completion(.success(lease))
                case .takenByAnother:
                    self.join(triesLeft: triesLeft - 1, completion: completion)
                case .failed(let e):
                    completion(.failure(e))
                }
            }
        }
    }

    private func schedulePoll() {
        guard isWatching else { return }
        pollTimer = commands.loop.schedule(afterMilliseconds: pollIntervalMilliseconds) { [weak self] in
            guard let self else { return }
            self.pollTimer = nil
            self.read()
            self.schedulePoll()
        }
    }

    /// Reads the index and reports any change. One read at a time: one asked for
    /// meanwhile follows the current one.
    private func read() {
        guard isWatching, commands.isConnected else { return }
        guard !isReadInFlight else {
            isReadWanted = true
            return
        }
        isReadInFlight = true
        commands.eval(Self.readScript, keys: [keys.members], arguments: []) { [weak self] result in
            guard let self else { return }
            self.isReadInFlight = false
            defer {
                if self.isReadWanted {
                    self.isReadWanted = false
                    self.read()
                }
            }
            guard self.isWatching, case .success(.array(let elements)) = result else { return }
            self.reads += 1
            let ids = elements.compactMap { $0.string.flatMap { NodeID($0) } }
            if let change = self.view.apply(read: ids, now: self.commands.loop.now) {
                self.onChange?(change)
            }
        }
    }
}
