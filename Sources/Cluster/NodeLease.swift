/// A node's lease in Redis: the key `<prefix>:node:<id>` holding this lease's random token,
/// expiring `leaseMilliseconds` after its last renewal, and the node's entry in the
/// live-node index scored by the same expiry. While the node lives it renews about every
/// second; a node that stops (SIGKILL, a partition) lets it lapse, which is how the others
/// learn of its death (`ClusterMembership`).
///
/// - Renewal is atomic and conditional (one Lua script): it extends the lease only if the
///   key still holds this lease's token. A lease found gone, or held by another token,
///   is reported `lost`, and renewing stops: the owner must treat the node as dead to
///   the cluster (drop its sessions, join again under a new id).
/// - After the connection comes back (Redis restarted, or the link broke) the lease is
///   re-asserted: taken again if absent, extended if still ours, `lost` if another node
///   holds the id by now (possible only after Redis lost its data). The event says
///   which, so the owner knows whether the others may have seen the node leave.
/// - While the connection is down nothing is renewed and nothing is decided: the others
///   cannot reach Redis either (a restart) or will see the lease lapse (a partition of
///   this node alone), and the reconnect's re-assertion tells which.
///
/// Confined to its connection's loop. `@unchecked Sendable`: state touched only there.
public final class NodeLease: @unchecked Sendable {
    /// What happened to the lease.
    public enum Event: Equatable, Sendable {
        /// Taken at `start()`.
        case acquired
        /// Re-asserted after a reconnect. `wasHeld`: the key was still ours (so no other
        /// node saw this one leave); `false`: it had gone (Redis restarted empty, or the
        /// lease lapsed while this node could not renew) and was taken again.
        case reasserted(wasHeld: Bool)
        /// The lease is no longer this node's; renewing has stopped.
        case lost(String)
    }

    /// How `start()` ended.
    public enum Outcome: Equatable, Sendable {
        /// The lease is held and being renewed.
        case held
        /// Another node holds this id (only after Redis lost its data): take another id.
        case takenByAnother
        /// Redis could not be asked.
        case failed(ClusterError)
    }

    public let connection: RedisConnection
    public let keys: ClusterKeys
    public let node: NodeID
    /// A random token naming this lease: what "still ours" means.
    public let token: String
    public let leaseMilliseconds: Int64
    public let renewIntervalMilliseconds: Int64
    /// Told of re-assertions and of the loss (not of routine renewals).
    public var onEvent: ((Event) -> Void)?
    /// Whether the lease is held, as far as this node knows.
    public private(set) var isHeld = false
    /// Successful renewals so far.
    public private(set) var renewals = 0

    private var isRenewing = false
    private var isRenewalInFlight = false
    private var renewTimer: ClusterLoop.TimerID?

    /// - Parameters:
    ///   - leaseMilliseconds: how long the lease outlives its last renewal (default 5 s,
    ///     `--node-lease-seconds`).
    ///   - renewIntervalMilliseconds: how often it is renewed; default a second, or a
    ///     third of a shorter lease.
    public init(connection: RedisConnection, keys: ClusterKeys, node: NodeID, leaseMilliseconds: Int64 = 5_000, renewIntervalMilliseconds: Int64? = nil) {
        self.connection = connection
        self.keys = keys
        self.node = node
        self.leaseMilliseconds = max(100, leaseMilliseconds)
        self.renewIntervalMilliseconds = renewIntervalMilliseconds ?? min(1_000, max(1, self.leaseMilliseconds / 3))
        var g = SystemRandomNumberGenerator()
        token = (0..<2).map { _ in String(g.next() as UInt64, radix: 16) }.joined(separator: "-")
    }

    /// The script behind every take and renewal. KEYS: lease, index, node sequence.
    /// ARGV: token, lease ms, node id, "acquire" or "renew". Returns 2 (taken; it was
    /// absent), 1 (extended; it was ours), 0 (absent, and renewing: lost), -1 (another
    /// token holds it). It also raises the node sequence to at least this id, so after
    /// Redis restarts empty a joining node does not draw a live node's id.
    static let script = """
        local t = redis.call('TIME')
        local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[2])
        local holder = redis.call('GET', KEYS[1])
        if holder and holder ~= ARGV[1] then return -1 end
        if not holder and ARGV[4] == 'renew' then return 0 end
        redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
        redis.call('ZADD', KEYS[2], string.format('%.0f', expiry), ARGV[3])
        if tonumber(redis.call('GET', KEYS[3]) or '0') < tonumber(ARGV[3]) then redis.call('SET', KEYS[3], ARGV[3]) end
        if holder then return 1 end
        return 2
        """

    /// Gives the lease up: deletes the key and the index entry if still ours, and
    /// announces `leave <id>`. KEYS: lease, index. ARGV: token, node id, channel.
    static let releaseScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('DEL', KEYS[1])
        redis.call('ZREM', KEYS[2], ARGV[2])
        redis.call('PUBLISH', ARGV[3], 'leave ' .. ARGV[2])
        return 1
        """

    /// Takes the lease and, if held, starts renewing it and re-asserting it after every
    /// reconnect. Call once, with the connection connected.
    public func start(completion: @escaping (Outcome) -> Void) {
        precondition(connection.loop.isOnLoopThread, "NodeLease.start off its loop")
        run(mode: "acquire") { [weak self] result in
            guard let self else { return }
            switch result {
            case .success(1), .success(2):
                self.isHeld = true
                self.isRenewing = true
                self.connection.observeState { [weak self] state in
                    if state == .connected { self?.reassert() }
                }
                self.scheduleRenewal()
                completion(.held)
                self.onEvent?(.acquired)
            case .success:
                completion(.takenByAnother)
            case .failure(let error):
                completion(.failed(error))
            }
        }
    }

    /// Stops renewing and leaves the key to lapse: what a node killed with SIGKILL does
    /// (tests stand in for a dead node with it). No event follows.
    public func stopRenewing() {
        precondition(connection.loop.isOnLoopThread, "NodeLease.stopRenewing off its loop")
        isRenewing = false
        if let t = renewTimer { connection.loop.cancel(t) }
        renewTimer = nil
    }

    /// A graceful leave: stops renewing, deletes the lease if still ours, and announces it.
    public func release(completion: @escaping (Result<Void, ClusterError>) -> Void) {
        stopRenewing()
        isHeld = false
        connection.eval(Self.releaseScript, keys: [keys.lease(node), keys.members], arguments: [token, node.description, keys.memberEvents]) { result in
            completion(result.map { _ in () })
        }
    }

    private func scheduleRenewal() {
        guard isRenewing else { return }
        renewTimer = connection.loop.schedule(afterMilliseconds: renewIntervalMilliseconds) { [weak self] in
            guard let self else { return }
            self.renewTimer = nil
            self.renew()
            self.scheduleRenewal()
        }
    }

    private func renew() {
        // One renewal at a time; while disconnected there is nothing to do until the
        // reconnect re-asserts.
        guard isRenewing, !isRenewalInFlight, connection.isConnected else { return }
        isRenewalInFlight = true
        run(mode: "renew") { [weak self] result in
            guard let self else { return }
            self.isRenewalInFlight = false
            guard self.isRenewing else { return }
            switch result {
            case .success(1): self.renewals += 1
            case .success(0): self.lose("the lease expired in Redis before it was renewed")
            case .success: self.lose("another node holds this node's id")
            // A lost connection is re-asserted on reconnect; an error reply (LOADING after
            // a restart, BUSY) is retried on the next tick, well within the lease.
            case .failure: break
            }
        }
    }

    private func reassert() {
        guard isRenewing else { return }
        run(mode: "acquire") { [weak self] result in
            guard let self, self.isRenewing else { return }
            switch result {
            case .success(let n) where n >= 1:
                self.onEvent?(.reasserted(wasHeld: n == 1))
            case .success:
                self.lose("another node took this node's id while Redis was out of reach")
            case .failure:
                break  // the connection went again; the next `.connected` re-asserts
            }
        }
    }

    private func lose(_ reason: String) {
        stopRenewing()
        isHeld = false
        onEvent?(.lost(reason))
    }

    /// Runs the lease script; the result is its integer (an error reply becomes a failure).
    private func run(mode: String, completion: @escaping (Result<Int64, ClusterError>) -> Void) {
        connection.eval(Self.script, keys: [keys.lease(node), keys.members, keys.nodeSequence],
                        arguments: [token, String(leaseMilliseconds), node.description, mode]) { result in
            switch result {
            case .success(.integer(let n)): completion(.success(n))
            case .success(let other): completion(.failure(.unexpectedReply("lease script: \(other)")))
            case .failure(let e): completion(.failure(e))
            }
        }
    }
}
