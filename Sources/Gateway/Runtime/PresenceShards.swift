import Foundation
import Presence
import Synchronization
import Transport
import WebSocket

/// The process's presence shards (`--presence-shards`): one `PresenceThread` per shard,
/// each the only owner of the users `ShardPlacement` puts on it and of their sessions, and
/// the `ClusterBus` between them (`PresenceEpoch`: each shard's own mailbox, and in a
/// cluster the node link to the other nodes' shards).
///
/// Everything addressed to presence comes through here and goes to the one shard that owns
/// it: a sign-in to the user's home, an op to the shard of its session (the session ID
/// names it), a commit's outcome to the shard of its ticket, an account change to the
/// user's home. Subscribers' sessions live on this process's first shard. Operators'
/// questions about all sessions are asked of every local shard and answered together. In
/// a cluster, what belongs to another node's shard is forwarded to it (`ClusterNode`).
///
/// The shards in use are the current epoch's. A cluster node swaps in a new epoch when the
/// members change (`replace`); a single process keeps its first one.
///
/// `@unchecked Sendable`: the epoch sits behind a `Mutex`; each thread is thread-safe to
/// post to; the gauges' sums sit behind a `Mutex`.
final class PresenceShards: @unchecked Sendable {
    private let state: Mutex<PresenceEpoch>
    private unowned let runtime: GatewayRuntime
    private let configuration: PresenceConfiguration
    private let gauges: Mutex<(sessions: [Int], statuses: [[String: Int]])>
    /// The clocks every shard reads (the same sources).
    let clock: PresenceClock
    /// Set by a cluster node before `start`.
    weak var cluster: ClusterNode?

    init(count: Int, configuration: PresenceConfiguration, runtime: GatewayRuntime) {
        let epoch = PresenceEpoch(shards: count, qualifier: runtime.configuration.node)
        self.runtime = runtime
        self.configuration = configuration
        clock = PresenceClock(wall: runtime.configuration.clock, monotonic: runtime.configuration.monotonicClock)
        gauges = Mutex((Array(repeating: 0, count: epoch.shardsPerNode), Array(repeating: [:], count: epoch.shardsPerNode)))
        state = Mutex(epoch)
        only = runtime.configuration.clusterURL == nil ? epoch : nil
        epoch.makeThreads(configuration: configuration, runtime: runtime, clock: clock)
    }

    /// The epoch in use now.
    var current: PresenceEpoch {
        if let only { return only }
        return state.withLock { $0 }
    }
    /// A single process's one epoch, read without the lock on every op.
    private let only: PresenceEpoch?
    /// The current epoch's `serial`, readable without the lock (the per-input and
    /// per-close checks: a single process never changes it).
    var currentSerial: UInt64 { serial.load(ordering: .acquiring) }
    private let serial = Atomic<UInt64>(0)
    /// The current epoch's threads.
    var threads: [PresenceThread] { current.threads }
    var count: Int { current.threads.count }
    /// Inputs waiting on all shards.
    var backlog: Int { threads.reduce(0) { $0 + $1.backlog } }

    /// Whether `start` ran: a re-placement starts its new shards only then.
    private let isStarted = Mutex(false)

    func start() {
        isStarted.withLock { started in
            started = true
            threads.forEach { $0.start() }
        }
    }

    /// Starts `epoch`'s shards if the gateway has started (else `start` will).
    func startIfStarted(_ epoch: PresenceEpoch) {
        isStarted.withLock { started in
            if started, current === epoch { epoch.threads.forEach { $0.start() } }
        }
    }

    func stop() {
        let threads = self.threads
        for thread in threads { thread.post(.stop) }
        for thread in threads { _ = thread.finished.wait(timeout: .now() + 5) }
    }

    /// A cluster's re-placement: makes `epoch`'s threads (not started) and makes it current.
    /// - Returns: the epoch it replaced, whose threads still run until stopped.
    func replace(with epoch: PresenceEpoch) -> PresenceEpoch {
        precondition(only == nil, "a single process keeps its one epoch")
        epoch.makeThreads(configuration: configuration, runtime: runtime, clock: clock)
        return state.withLock { old in
            defer {
                old = epoch
                serial.store(epoch.serial, ordering: .releasing)
            }
            return old
        }
    }

    /// Queues an input that must not be refused (see `PresenceThread.post`).
    func post(_ input: PresenceInput) {
        let epoch = current
        switch input {
        case .inspect(.sessions, let respond):
            askEveryShard(epoch, respond)
        case .probe(let respond):
            let replies = Mutex<[PresenceThread.Counts]>([])
            let count = epoch.threads.count
            for thread in epoch.threads {
                thread.post(.probe { counts in
                    let all = replies.withLock { replies -> [PresenceThread.Counts]? in
                        replies.append(counts)
                        return replies.count == count ? replies : nil
                    }
                    if let all {
                        respond(PresenceThread.Counts(sessions: all.reduce(0) { $0 + $1.sessions },
                                                      waitingSends: all.reduce(0) { $0 + $1.waitingSends }))
                    }
                })
            }
        case .stop:
            epoch.threads.forEach { $0.post(.stop) }
        default:
            route(input, in: epoch) { $0.post(input) }
        }
    }

    /// Queues a client's op on its shard, or answers it `overloaded` when that shard's
    /// mailbox is full (see `PresenceThread.offer`).
    @discardableResult
    func offer(_ input: PresenceInput, replyTo target: ReplyTarget) -> Bool {
        var isQueued = true
        route(input, in: current) { isQueued = $0.offer(input, replyTo: target) }
        return isQueued
    }

    /// Queues an input that arrived from another node's edge on the shard of this node that
    /// owns it; one this node does not own (the nodes' views of the members differ for a
    /// moment) is refused `unknown_session`, never forwarded again.
    func postFromEdge(_ input: PresenceInput, in epoch: PresenceEpoch) {
        guard let shard = shard(of: input, in: epoch), let local = epoch.local(shard) else { return refuseUnknownSession(input) }
        epoch.threads[local].post(input)
    }

    /// An op from another node's edge, queued on this node's shard that owns it, or
    /// answered `overloaded` (a full mailbox) or `unknown_session` (not this node's).
    func offerFromEdge(_ input: PresenceInput, replyTo target: ReplyTarget, in epoch: PresenceEpoch) {
        guard let shard = shard(of: input, in: epoch), let local = epoch.local(shard) else { return refuseUnknownSession(input) }
        epoch.threads[local].offer(input, replyTo: target)
    }

    private func route(_ input: PresenceInput, in epoch: PresenceEpoch, local: (PresenceThread) -> Void) {
        guard let shard = shard(of: input, in: epoch) else { return refuseUnknownSession(input) }
        if let l = epoch.local(shard) {
            local(epoch.threads[l])
        } else if let node = epoch.nodeID(ofShard: shard), let cluster, cluster.forward(input, to: node, in: epoch) {
            return
        } else {
            refuseUnknownSession(input)
        }
    }

    /// The shard that owns the input, or nil for a session no shard of this epoch issued
    /// (a resume token from a process with more shards).
    private func shard(of input: PresenceInput, in epoch: PresenceEpoch) -> Int? {
        let placement = epoch.placement
        let shard: Int
        switch input {
        case .signIn(let request, _, _): shard = placement.home(of: request.user)
        case .signInSubscriber: shard = epoch.base
        case .command(let command, _, _): shard = command.shard(in: placement)
        case .accountOp(_, let session, _, _): shard = session.shard
        case .resume(let token, _, _): shard = token.session.shard
        case .connectionLost(let session, _): shard = session.shard
        case .inspect(.explain(let user), _): shard = placement.home(of: user)
        case .inspect(.kick(let session), _): shard = session.shard
        case .inspect(.sessions, _), .probe, .summaries, .stop: shard = epoch.base
        }
        return shard < placement.count ? shard : nil
    }

    private func refuseUnknownSession(_ input: PresenceInput) {
        switch input {
        case .resume(_, _, let target), .signIn(_, let target, _):
            runtime.signInRefused(target, session: nil, ErrorReply(PresenceError.unknownSession))
        case .command(_, let target?, _), .accountOp(_, _, let target, _):
            runtime.reply(target, ReplyEncoder.error(id: target.requestID, ErrorReply(PresenceError.unknownSession)))
        case .inspect(_, let respond):
            respond(HTTPWire.errorResponse(ErrorReply(PresenceError.unknownSession)))
        default:
            break
        }
    }

    /// `GET /admin/sessions`: every local shard's sessions, in one answer.
    private func askEveryShard(_ epoch: PresenceEpoch, _ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let replies = Mutex<[SessionSummary]>([]), answered = Atomic<Int>(0)
        let wall = clock.mapping()
        let node = epoch.qualifier
        let count = epoch.threads.count
        for thread in epoch.threads {
            thread.post(.summaries { list in
                replies.withLock { $0 += list }
                if answered.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == count {
                    let all = replies.withLock { $0 }.sorted { $0.session.rawValue < $1.session.rawValue }
                    respond(AdminAPI.sessions(all, wall: wall, node: node))
                }
            })
        }
    }

    // MARK: - Restart handover

    /// Every shard's users as shown to contacts, once all threads ended; nil if one did not.
    func shownAfterStop(of epoch: PresenceEpoch? = nil, waiting: Bool = false) -> [ShownPresence]? {
        var shown: [ShownPresence] = []
        for thread in (epoch ?? current).threads {
            if waiting { _ = thread.finished.wait(timeout: .now() + 5) }
            guard let rows = thread.shownAfterStop() else { return nil }
            shown += rows
        }
        return shown
    }

    /// Every shard gets every row: each keeps its own users' and mirrors the rest.
    func restoreShown(_ rows: [ShownPresence], until: Instant, in epoch: PresenceEpoch? = nil) {
        for thread in (epoch ?? current).threads { thread.restoreShown(rows, until: until) }
    }

    // MARK: - Gauges

    /// Called by shard `index` after each batch: the gauges show all shards' sums.
    func record(sessions: Int, statuses: [String: Int]?, of index: Int) {
        let threads = self.threads
        guard index < threads.count else { return }
        if index < runtime.metrics.shardSessions.count {
            runtime.metrics.shardSessions[index].record(sessions)
            runtime.metrics.shardBacklog[index].record(threads[index].backlog)
        }
        let (total, byStatus) = gauges.withLock { gauges -> (Int, [String: Int]?) in
            gauges.sessions[index] = sessions
            guard let statuses else { return (gauges.sessions.reduce(0, +), nil) }
            gauges.statuses[index] = statuses
            return (gauges.sessions.reduce(0, +), gauges.statuses.reduce(into: [:]) { sum, shard in
                sum.merge(shard, uniquingKeysWith: +)
            })
        }
        runtime.metrics.coreSessions.record(total)
        if let byStatus {
            for (status, gauge) in runtime.metrics.usersByStatus { gauge.record(byStatus[status] ?? 0) }
        }
    }
}
