import Foundation
import Presence
import Synchronization
import Transport
import WebSocket

/// The process's presence shards (`--presence-shards`): one `PresenceThread` per shard,
/// each the only owner of the users `ShardPlacement` puts on it and of their sessions, and
/// the in-process `ClusterBus` between them, which is each shard's own mailbox.
///
/// Everything addressed to presence comes through here and goes to the one shard that owns
/// it: a sign-in to the user's home, an op to the shard of its session (the session ID
/// names it), a commit's outcome to the shard of its ticket, an account change to the
/// user's home. Subscribers' sessions live on shard 0. Operators' questions about all
/// sessions are asked of every shard and answered together.
///
/// `@unchecked Sendable`: `threads` is set once in `init` and only read afterwards; each
/// thread is thread-safe to post to; the gauges' sums sit behind a `Mutex`.
final class PresenceShards: ClusterBus, @unchecked Sendable {
    private(set) var threads: [PresenceThread] = []
    let placement: ShardPlacement
    private unowned let runtime: GatewayRuntime
    private let gauges: Mutex<(sessions: [Int], statuses: [[String: Int]])>

    init(count: Int, configuration: PresenceConfiguration, runtime: GatewayRuntime) {
        placement = ShardPlacement(count: count, index: 0)
        self.runtime = runtime
        gauges = Mutex((Array(repeating: 0, count: placement.count), Array(repeating: [:], count: placement.count)))
        threads = (0..<placement.count).map {
            PresenceThread(configuration: configuration, runtime: runtime,
                           placement: ShardPlacement(count: placement.count, index: $0), bus: self)
        }
    }

    var count: Int { threads.count }
    /// The clocks every shard reads (the same sources).
    var clock: PresenceClock { threads[0].clock }
    /// Inputs waiting on all shards.
    var backlog: Int { threads.reduce(0) { $0 + $1.backlog } }

    func start() { threads.forEach { $0.start() } }

    func stop() {
        for thread in threads { thread.post(.stop) }
        for thread in threads { _ = thread.finished.wait(timeout: .now() + 5) }
    }

    func carry(_ message: ShardMessage, from source: Int, to shard: Int) {
        guard shard < threads.count else { return }
        // Bounded by the input that caused it, which was admitted: never refused.
        threads[shard].post(.command(.fromShard(message), target: nil))
    }

    /// Queues an input that must not be refused (see `PresenceThread.post`).
    func post(_ input: PresenceInput) {
        switch input {
        case .inspect(.sessions, let respond):
            askEveryShard(respond)
        case .probe(let respond):
            let replies = Mutex<[PresenceThread.Counts]>([])
            for thread in threads {
                thread.post(.probe { [count] counts in
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
            threads.forEach { $0.post(.stop) }
        default:
            guard let shard = shard(of: input) else { return refuseUnknownSession(input) }
            threads[shard].post(input)
        }
    }

    /// Queues a client's op on its shard, or answers it `overloaded` when that shard's
    /// mailbox is full (see `PresenceThread.offer`).
    @discardableResult
    func offer(_ input: PresenceInput, replyTo target: ReplyTarget) -> Bool {
        guard let shard = shard(of: input) else {
            refuseUnknownSession(input)
            return false
        }
        return threads[shard].offer(input, replyTo: target)
    }

    /// The shard that owns the input, or nil for a session no shard of this process issued
    /// (a resume token from a process with more shards).
    private func shard(of input: PresenceInput) -> Int? {
        let shard: Int
        switch input {
        case .signIn(let request, _, _): shard = placement.home(of: request.user)
        case .signInSubscriber: shard = 0
        case .command(let command, _, _): shard = command.shard(in: placement)
        case .accountOp(_, let session, _, _): shard = session.shard
        case .resume(let token, _, _): shard = token.session.shard
        case .connectionLost(let session, _): shard = session.shard
        case .inspect(.explain(let user), _): shard = placement.home(of: user)
        case .inspect(.kick(let session), _): shard = session.shard
        case .inspect(.sessions, _), .probe, .summaries, .stop: shard = 0
        }
        return shard < threads.count ? shard : nil
    }

    private func refuseUnknownSession(_ input: PresenceInput) {
        switch input {
        case .resume(_, _, let target):
            runtime.signInRefused(target, session: nil, ErrorReply(PresenceError.unknownSession))
        case .command(_, let target?, _), .accountOp(_, _, let target, _):
            runtime.server.send(target.connection, opcode: .text,
                                payload: ReplyEncoder.error(id: target.requestID, ErrorReply(PresenceError.unknownSession)))
        case .inspect(_, let respond):
            respond(HTTPWire.errorResponse(ErrorReply(PresenceError.unknownSession)))
        default:
            break
        }
    }

    /// `GET /admin/sessions`: every shard's sessions, in one answer.
    private func askEveryShard(_ respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let replies = Mutex<[SessionSummary]>([]), answered = Atomic<Int>(0)
        let wall = clock.mapping()
        let node = runtime.configuration.node
        for thread in threads {
            thread.post(.summaries { [count] list in
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
    func shownAfterStop() -> [ShownPresence]? {
        var shown: [ShownPresence] = []
        for thread in threads {
            guard let rows = thread.shownAfterStop() else { return nil }
            shown += rows
        }
        return shown
    }

    /// Every shard gets every row: each keeps its own users' and mirrors the rest.
    func restoreShown(_ rows: [ShownPresence], until: Instant) {
        for thread in threads { thread.restoreShown(rows, until: until) }
    }

    // MARK: - Gauges

    /// Called by shard `index` after each batch: the gauges show all shards' sums.
    func record(sessions: Int, statuses: [String: Int]?, of index: Int) {
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
