import Cluster
import ClusterWire
import Foundation
import Logging
import Presence
import Storage
import Synchronization
import Transport
import WebSocket

/// This process as a node of a cluster (`--cluster-url`; Protocol/cluster.md, "How
/// presenced runs a cluster").
///
/// - **Membership.** It joins through Redis (a node id and a lease, `ClusterMembership`)
///   and follows the live members. Each set of members is one `PresenceEpoch`: every
///   node's shards together, each user homed on the shard that rendezvous hashing picks.
/// - **Re-placement.** When the members change, the node retires its epoch through the
///   restart path: the old shards stop, what contacts were shown of their users goes to
///   `shown_presence` (the shared database), every signed-in connection of the old epoch
///   closes with 1012, and the new shards start showing the rows that all nodes wrote, for
///   the disconnect grace. Clients sign in again (any node); nobody flaps.
/// - **Edges and homes.** A socket stays on the node it reached (its edge); its session
///   lives on its user's home shard. The edge forwards the client's ops there as they
///   came (`NodeFrame.op`), and the home's replies, events and closes come back as
///   `EdgeMessage`s. Shards' messages to other nodes' shards travel the same link.
/// - **Loss.** Frames carry their epoch; a frame of an older epoch is dropped, one of an
///   epoch not reached yet waits (bounded) until this node gets there. A gap on the link
///   (Redis restarted, a queue overflowed) re-places this node's shards in place and tells
///   the others to close the sessions it homed: every session that may have missed
///   something signs in again to a fresh snapshot.
///
/// `@unchecked Sendable`: the link and membership are used on the cluster loop's thread;
/// `send` is thread-safe (`NodeLink.send`); the re-placement runs on its own serial queue;
/// the shared fields sit behind `Mutex`es.
final class ClusterNode: @unchecked Sendable {
    let loop: ClusterLoop
    private let membership: ClusterMembership
    private var link: NodeLink!
    private unowned let runtime: GatewayRuntime
    private let log = Logger(label: "cluster")
    private let shardsPerNode: Int
    private let redis: RedisConnection.Configuration
    /// This node's id, once joined.
    private(set) var node: UInt64 = 0
    /// Whether the lease was lost (the node drains and its process exits 75).
    var lostLease: Bool { lostLeaseFlag.load(ordering: .acquiring) }
    private let lostLeaseFlag = Atomic<Bool>(false)

    // Loop thread only.
    private let decoder = ClientOpDecoder()
    /// The epoch whose frames are applied now (set on the loop, in order with the frames).
    private var activeTag: UInt64 = 0
    /// Tags of epochs this node has left behind, with when: their frames are dropped for
    /// `lateFrameMilliseconds`. A tag names a set of members, and a set can come back (a
    /// node joined, then left): a frame of a tag retired longer ago is of its new
    /// incarnation, and waits like any epoch not reached yet.
    private var pastTags: [UInt64: ContinuousClock.Instant] = [:]
    /// How long after retiring an epoch its frames still arrive (the link delivers in
    /// order within milliseconds; a queue under backpressure, within a second).
    static let lateFrameMilliseconds: Int64 = 2_000
    /// Frames of an epoch this node has not reached yet, oldest first (at most
    /// `maxWaitingFrames`, for at most `maxWaitMilliseconds`).
    private var waiting: [(tag: UInt64, from: NodeID, frame: [UInt8], at: ContinuousClock.Instant)] = []
    private static let maxWaitingFrames = 100_000
    private static let maxWaitMilliseconds: Int64 = 10_000

    // The re-placement queue's.
    private let replacement = DispatchQueue(label: "re-placement")
    private let wanted = Mutex<(members: [UInt64], inPlace: Bool)?>(nil)
    private var serial: UInt64 = 0
    /// How long a re-placement waits, after writing its rows, for the other nodes' rows.
    static let settleMilliseconds = 300

    /// Connects to Redis (it retries with backoff until `join` gives up).
    init(url: String, leaseSeconds: Int, runtime: GatewayRuntime) throws {
        guard let endpoint = RedisEndpoint(url: url) else {
            throw ClusterError.unexpectedReply("--cluster-url must be redis://HOST:PORT, got \(url)")
        }
        self.runtime = runtime
        shardsPerNode = runtime.presence.current.shardsPerNode
        redis = RedisConnection.Configuration(endpoint: endpoint)
        loop = try ClusterLoop(name: "cluster-link")
        let commands = RedisConnection(loop: loop, configuration: redis)
        let events = RedisConnection(loop: loop, configuration: redis)
        let lease = Int64(max(1, leaseSeconds)) * 1000
        membership = Self.onLoop(loop) {
            ClusterMembership(commands: commands, events: events, keys: ClusterKeys(), leaseMilliseconds: lease)
        }
    }

    /// Runs `body` on the loop and waits for its value (set up and inspection only).
    private static func onLoop<T>(_ loop: ClusterLoop, _ body: @escaping @Sendable () -> T) -> T {
        let box = LoopResult<T>()
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            box.value = body()
            done.signal()
        }
        done.wait()
        return box.value!
    }

    /// Joins: takes a node id and its lease, starts the link, and waits until the live
    /// members include this node; then builds the first epoch (its shards not started).
    /// - Throws: when Redis is not reached, or the node is not seen live, within `timeout`.
    func join(timeoutSeconds: Double = 15) throws {
        let joined = Mutex<Result<NodeID, ClusterError>?>(nil)
        loop.execute { [self] in
            membership.onChange = { [weak self] change in self?.membershipChanged(change.members) }
            membership.start()
            func attempt() {
                guard membership.commands.isConnected else {
                    _ = loop.schedule(afterMilliseconds: 50) { attempt() }
                    return
                }
                membership.join { result in
                    switch result {
                    case .success(let lease):
                        lease.onEvent = { [weak self] event in self?.leaseEvent(event) }
                        joined.withLock { $0 = .success(lease.node) }
                    case .failure(let error):
                        joined.withLock { $0 = .failure(error) }
                    }
                }
            }
            attempt()
        }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while joined.withLock({ $0 }) == nil, Date() < deadline { usleep(10_000) }
        guard let result = joined.withLock({ $0 }) else {
            throw ClusterError.unexpectedReply("no Redis at \(redis.endpoint) within \(Int(timeoutSeconds)) s")
        }
        let id = try result.get()
        node = UInt64(id.rawValue)
        guard node <= NodeQualifier.maxNode else { throw ClusterError.unexpectedReply("node id \(node) above \(NodeQualifier.maxNode)") }
        let ready = Mutex(false)
        loop.execute { [self] in
            link = NodeLink(node: id, loop: loop, configuration: NodeLink.Configuration(redis: redis),
                            onFrame: { [weak self] from, frame in self?.received(frame, from: from) },
                            onEvent: { [weak self] event in self?.linkEvent(event) })
            link.start()
            ready.withLock { $0 = true }
        }
        while !ready.withLock({ $0 }) { usleep(1_000) }
        log.info("joined the cluster", metadata: ["node": "\(node)", "redis": "\(redis.endpoint)"])
        // The first epoch: wait (bounded) for the members to include this node.
        while Date() < deadline {
            let members = Self.onLoop(loop) { [membership] in membership.members.map { UInt64($0.rawValue) } }
            if members.contains(node) {
                replace(members: members, inPlace: false)
                replacement.sync {}
                return
            }
            usleep(20_000)
        }
        throw ClusterError.unexpectedReply("node \(node) not seen live within \(Int(timeoutSeconds)) s")
    }

    /// At drain, after the shards stopped and their rows were written: gives up the lease,
    /// so the others re-place at once rather than after the lease runs out.
    func leave() {
        let done = DispatchSemaphore(value: 0)
        loop.execute { [self] in
            guard let lease = membership.lease else {
                done.signal()
                return
            }
            lease.release { _ in done.signal() }
        }
        _ = done.wait(timeout: .now() + 2)
        loop.execute { [self] in
            link?.close()
            membership.stop()
        }
        loop.shutdown()
    }

    // MARK: - Sending (any thread)

    /// Sends one frame to `node`; false if it could not be queued (the link's queue for it
    /// is full), which the link also reports as a gap to the receiver.
    @discardableResult
    func send(_ frame: NodeFrame, to node: UInt64) -> Bool {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        do { try ClusterWire.encode(frame, into: &bytes) } catch {
            log.error("a frame has no wire form", metadata: ["error": "\(error)"])
            return false
        }
        guard let link, node <= UInt64(UInt32.max) else { return false }
        return link.send(bytes, to: NodeID(UInt32(node)))
    }

    /// What a home does to a connection of the edge in `slot` of the epoch tagged `epoch`
    /// (0: the current one); dropped if that epoch is no longer current.
    func sendToEdge(slot: Int, _ message: EdgeMessage, epoch tag: UInt64) {
        let epoch = runtime.presence.current
        guard tag == 0 || tag == epoch.tag, slot < epoch.members.count else { return }
        send(.edge(epoch: epoch.tag, message: message), to: epoch.members[slot])
    }

    /// An input for a shard of `node` (an edge's sign-in, resume, lost connection, or a
    /// command nobody answers). - Returns: false if it has no form to forward in.
    func forward(_ input: PresenceInput, to node: UInt64, in epoch: PresenceEpoch) -> Bool {
        let frame: NodeFrame
        switch input {
        case .signIn(let request, let target, let principal):
            frame = .signIn(epoch: epoch.tag, connection: target.connection.packed, requestID: target.requestID,
                            principal: ReplyEncoder.principalMembers(principal), request: request)
        case .resume(let token, let lastSeq, let target):
            guard let (high, low) = token.secretWords else { return false }
            frame = .resume(epoch: epoch.tag, connection: target.connection.packed, requestID: target.requestID,
                            session: token.session, secretHigh: high, secretLow: low, lastSeq: lastSeq)
        case .connectionLost(let session, let connection):
            frame = .connectionLost(epoch: epoch.tag, session: session, connection: connection.packed)
        case .command(let command, nil, _):
            frame = .command(epoch: epoch.tag, command: command)
        default:
            return false
        }
        let isSent = send(frame, to: node)
        switch input {
        case .signIn(_, let target, _) where !isSent:
            runtime.signInRefused(target, session: nil, runtime.overloadedReply())
        case .signIn(_, let target, _), .resume(_, _, let target):
            runtime.awaitHome(target.connection)
        default:
            break
        }
        return true
    }

    /// A signed-in connection's op, when its session's home is another node: forwarded as
    /// the client's text. - Returns: false if the home is this node (handle it here).
    func forwardOp(_ text: UnsafeRawBufferPointer, session: SessionID, device: Presence.DeviceKind, from id: ConnectionID,
                   remoteAddress: String) -> Bool {
        let epoch = runtime.presence.current
        guard epoch.local(session.shard) == nil else { return false }
        guard let home = epoch.nodeID(ofShard: session.shard),
              send(.op(epoch: epoch.tag, session: session, connection: id.packed, device: device, remoteAddress: remoteAddress,
                       text: Array(text)), to: home) else {
            // The home is gone, or the link refused: the re-placement will close this
            // connection; until then its ops are answered as overloaded.
            runtime.server.send(id, opcode: .text, payload: ReplyEncoder.error(id: nil, runtime.overloadedReply()))
            return true
        }
        return true
    }

    // MARK: - Receiving (loop thread)

    private func received(_ frame: ArraySlice<UInt8>, from: NodeID) {
        guard let tag = ClusterWire.nodeFrameEpoch(frame) else {
            log.warning("unreadable frame", metadata: ["from": "\(from)"])
            return
        }
        let now = ContinuousClock.now
        if tag == activeTag {
            apply(frame, from: from)
        } else if !isLate(tag, now: now) {
            while let first = waiting.first,
                  waiting.count >= Self.maxWaitingFrames || now - first.at > .milliseconds(Self.maxWaitMilliseconds) {
                waiting.removeFirst()
            }
            waiting.append((tag, from, Array(frame), now))
        }
    }

    /// Whether frames of `tag` are late ones of an epoch this node left moments ago.
    private func isLate(_ tag: UInt64, now: ContinuousClock.Instant) -> Bool {
        guard let retired = pastTags[tag] else { return false }
        if now - retired < .milliseconds(Self.lateFrameMilliseconds) { return true }
        pastTags[tag] = nil
        return false
    }

    /// Makes `tag` the epoch whose frames apply, and applies those that waited for it.
    private func activate(_ tag: UInt64, retiring old: UInt64?) {
        let now = ContinuousClock.now
        if let old, old != tag { pastTags[old] = now }
        pastTags[tag] = nil
        activeTag = tag
        let ready = waiting.filter { $0.tag == tag }
        waiting.removeAll { $0.tag == tag || isLate($0.tag, now: now) }
        for w in ready { apply(w.frame[...], from: w.from) }
    }

    private func apply(_ bytes: ArraySlice<UInt8>, from: NodeID) {
        let frame: NodeFrame
        do { frame = try ClusterWire.decodeNodeFrame(bytes) } catch {
            log.warning("unreadable frame", metadata: ["from": "\(from)", "error": "\(error)"])
            return
        }
        let epoch = runtime.presence.current
        guard epoch.tag == frame.epoch else { return }
        let presence = runtime.presence!
        func remote(_ connection: UInt64) -> ConnectionID? {
            guard let slot = epoch.slot(of: UInt64(from.rawValue)) else { return nil }
            return RemoteConnection.id(slot: slot, edge: connection)
        }
        switch frame {
        case .shard(_, let toShard, let message):
            guard Int(toShard) < epoch.threads.count else { return }
            epoch.threads[Int(toShard)].post(.command(.fromShard(message), target: nil))
        case .op(_, let session, let connection, _, let remoteAddress, let text):
            guard let id = remote(connection) else { return }
            let request: ClientRequest
            do {
                request = try decoder.decode(text, from: session)
            } catch {
                runtime.send(id, ReplyEncoder.rejection(error), epoch: epoch.tag)
                return
            }
            let target = ReplyTarget(connection: id, requestID: request.id, epoch: epoch.tag)
            guard let input = runtime.userInput(request.op, session: session, target: target, remoteAddress: remoteAddress) else {
                runtime.reply(target, ReplyEncoder.error(id: request.id, ErrorReply(WireError.alreadySignedIn)))
                return
            }
            presence.offerFromEdge(input, replyTo: target, in: epoch)
        case .signIn(_, let connection, let requestID, let principal, var request):
            guard let id = remote(connection) else { return }
            request.attachment.connection = id.packed
            presence.postFromEdge(.signIn(request, target: ReplyTarget(connection: id, requestID: requestID, epoch: epoch.tag),
                                          principal: .encodedMembers(principal)), in: epoch)
        case .resume(_, let connection, let requestID, let session, let high, let low, let lastSeq):
            guard let id = remote(connection) else { return }
            let token = ResumeToken(session: session, secretHigh: high, secretLow: low, node: epoch.node)
            presence.postFromEdge(.resume(token, lastSeq: lastSeq, target: ReplyTarget(connection: id, requestID: requestID, epoch: epoch.tag)),
                                  in: epoch)
        case .connectionLost(_, let session, let connection):
            guard let id = remote(connection) else { return }
            presence.postFromEdge(.connectionLost(session, id), in: epoch)
        case .command(_, let command):
            presence.postFromEdge(.command(command, target: nil), in: epoch)
        case .edge(_, let message):
            applyAtEdge(message, epoch: epoch)
        case .homeReset:
            closeConnections(parity: nil, homedOn: UInt64(from.rawValue))
        }
    }

    /// What a home does to a connection this node holds.
    private func applyAtEdge(_ message: EdgeMessage, epoch: PresenceEpoch) {
        let server = runtime.server!
        switch message {
        case .deliver(let body, let to):
            let recipients = to.compactMap { r in ConnectionID(packed: r.connection).map { ($0, r.sequence) } }
                .filter { $0.0.loop < RemoteConnection.firstLoop }
            guard !recipients.isEmpty else { return }
            server.deliver(body: body, to: recipients) { seq, buffer in EventEncoder.eventPrefix(seq: seq, into: &buffer) }
        case .reply(let connection, let bytes):
            guard let id = ConnectionID(packed: connection), id.loop < RemoteConnection.firstLoop else { return }
            server.send(id, opcode: .text, payload: bytes)
        case .close(let connection, let code, let reason):
            guard let id = ConnectionID(packed: connection), id.loop < RemoteConnection.firstLoop else { return }
            server.close(id, code: CloseCode(code), reason: reason)
        case .attach(let connection, let session, let device):
            guard let id = ConnectionID(packed: connection), id.loop < RemoteConnection.firstLoop else { return }
            runtime.markSignedIn(id, session: session, device: device, epoch: epoch)
        case .signInRefused(let connection):
            guard let id = ConnectionID(packed: connection), id.loop < RemoteConnection.firstLoop else { return }
            runtime.resetSignIn(id)
        }
    }

    // MARK: - Membership, lease and link events (loop thread)

    private func membershipChanged(_ members: [NodeID]) {
        let ids = members.map { UInt64($0.rawValue) }
        log.info("members changed", metadata: ["members": "\(ids)"])
        guard node != 0, ids.contains(node) else { return }
        replace(members: ids, inPlace: false)
    }

    private func leaseEvent(_ event: NodeLease.Event) {
        switch event {
        case .acquired, .reasserted:
            log.info("lease", metadata: ["event": "\(event)"])
        case .lost(let why):
            // Another node may hold this id, or the others have seen this node die: its
            // sessions are no longer the cluster's. Drain and stop; the supervisor starts
            // a fresh process, which joins under a new id.
            log.critical("lease lost; draining and stopping", metadata: ["why": "\(why)"])
            lostLeaseFlag.store(true, ordering: .releasing)
            kill(getpid(), SIGTERM)
        }
    }

    private func linkEvent(_ event: NodeLinkEvent) {
        switch event {
        case .gap(let from):
            log.warning("frames from a node were lost; re-placing this node's shards", metadata: ["from": "\(from)"])
            replace(members: runtime.presence.current.members, inPlace: true)
        case .undelivered(let to):
            log.warning("frames to a node may not have arrived", metadata: ["to": "\(to)"])
        case .inboxDown, .inboxUp:
            log.info("inbox", metadata: ["event": "\(event)"])
        }
    }

    // MARK: - Re-placement

    /// Asks for an epoch over `members` (coalesced: the newest request wins). `inPlace`
    /// rebuilds this node's shards even if the members are the same (after a gap).
    private func replace(members: [UInt64], inPlace: Bool) {
        let isFirst = wanted.withLock { w -> Bool in
            let first = w == nil
            w = (members, (w?.inPlace ?? false) || inPlace)
            return first
        }
        guard isFirst else { return }
        replacement.async { [self] in
            guard let (members, inPlace) = wanted.withLock({ w -> ([UInt64], Bool)? in
                defer { w = nil }
                return w.map { ($0.members, $0.inPlace) }
            }) else { return }
            rebuild(members: members.sorted(), inPlace: inPlace)
        }
    }

    private func rebuild(members: [UInt64], inPlace: Bool) {
        let presence = runtime.presence!
        let old = presence.current
        guard !members.isEmpty, members.contains(node) else { return }
        guard old.members != members || old.serial == 0 || inPlace else { return }
        guard members.count * shardsPerNode <= ShardPlacement.maxCount else {
            log.error("too many shards for one cluster; keeping the current arrangement",
                      metadata: ["nodes": "\(members.count)", "shardsPerNode": "\(shardsPerNode)", "max": "\(ShardPlacement.maxCount)"])
            return
        }
        let started = ContinuousClock.now
        serial += 1
        let epoch = PresenceEpoch(members: members, node: node, shardsPerNode: shardsPerNode, serial: serial, cluster: self)
        let retired = presence.replace(with: epoch)
        // The epoch made before joining never ran; the first one runs once the gateway starts.
        let wasRunning = retired.threads.first?.isStarted ?? false
        // The old shards stop (a sign-in reaching them now goes on to the new epoch); what
        // their users showed is kept for the new homes.
        var rows: [ShownPresence] = []
        if wasRunning {
            for thread in retired.threads { thread.post(.stop) }
            rows = presence.shownAfterStop(of: retired, waiting: true) ?? []
            closeConnections(parity: retired.serial & 1, homedOn: nil)
            if inPlace { for peer in members where peer != node { send(.homeReset(epoch: epoch.tag), to: peer) } }
        }
        let wall = presence.clock.mapping()
        let now = presence.clock.wall().milliseconds
        let graceMilliseconds = runtime.configuration.presence.disconnectGraceMilliseconds
        let shownRows = RestartHandover.rows(rows, wall: wall)
        do {
            try runtime.writer.perform { db in
                try ShownPresenceStore(db).merge(shownRows, drainedAt: now, expiredBefore: now - graceMilliseconds)
            }
        } catch {
            log.error("what contacts were shown is not kept", metadata: ["error": "\(error)"])
        }
        // The other nodes write theirs at the same change; wait for them a moment.
        if wasRunning { usleep(UInt32(Self.settleMilliseconds * 1000)) }
        do {
            let taken = try runtime.writer.perform { db in try ShownPresenceStore(db).recent(drainedSince: now - graceMilliseconds) }
            RestartHandover.show(taken, in: runtime, epoch: epoch)
        } catch {
            log.error("what contacts were shown before the change is lost", metadata: ["error": "\(error)"])
        }
        presence.startIfStarted(epoch)
        let retiredTag = retired.tag
        loop.execute { [self] in activate(epoch.tag, retiring: retiredTag) }
        runtime.metrics.clusterReplacements.increment()
        log.info("re-placed", metadata: ["members": "\(members)", "epoch": "\(epoch.tag)", "inPlace": "\(inPlace)",
                                         "rows": "\(shownRows.count)",
                                         "ms": "\(GatewayMetrics.nanoseconds(ContinuousClock.now - started) / 1_000_000)"])
    }

    /// Closes with 1012 the signed-in connections of this node signed in under the epoch
    /// of parity `parity` and those signing in, or (with `homedOn`) those whose session the
    /// node `homedOn` homes.
    private func closeConnections(parity: UInt64?, homedOn: UInt64?) {
        guard let server = runtime.server else { return }
        let epoch = runtime.presence.current
        server.executeOnEveryLoop { loop in
            for (id, raw) in loop.connectionsWithHandlerWords() {
                let word = ConnectionWord(raw)
                // A sign-in in flight may have crossed to a home that has moved on (its
                // frame is dropped there): it is closed too, and the client signs in again.
                if parity != nil, word.phase == .signingIn {
                    loop.close(id, code: .serviceRestart, reason: "cluster_changed")
                    continue
                }
                guard word.phase == .user || word.phase == .subscriber else { continue }
                if let parity, word.epochParity != parity { continue }
                if let homedOn, epoch.nodeID(ofShard: word.session.shard) != homedOn { continue }
                loop.close(id, code: .serviceRestart, reason: "cluster_changed")
            }
        }
    }
}

/// A value handed from the cluster loop to a waiting thread; the semaphore the waiter
/// waits on orders the write before the read.
private final class LoopResult<T>: @unchecked Sendable {
    var value: T?
}
