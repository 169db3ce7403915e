import CPosix
import Foundation
import Logging
import Mailboxes
import Presence
import Synchronization
import Transport
import WebSocket

/// Where a reply goes: the connection and the client's request ID.
struct ReplyTarget: Sendable {
    var connection: ConnectionID
    var requestID: String
    /// For a connection another node holds (`RemoteConnection`), the tag of the epoch the
    /// op arrived in: a reply is dropped once that epoch is replaced. 0 for a local one.
    var epoch: UInt64 = 0
}

/// Work for the presence thread.
enum PresenceInput: Sendable {
    /// A user signed in on `target.connection`; the core issues the session, and the reply
    /// (session, resume token, `principal`) goes out once it agrees.
    case signIn(SignIn, target: ReplyTarget, principal: SignInReply.Principal)
    /// A watch-only subscriber signed in.
    case signInSubscriber(allowed: Set<UserID>, attachment: SessionAttachment, target: ReplyTarget, principal: SignInReply.Principal)
    /// A core command: a client's op (`target` set; `reply` overrides the plain `ok`), or
    /// one the runtime posts itself (a commit's outcome, an account change).
    case command(Command, target: ReplyTarget?, reply: [UInt8]? = nil)
    /// A signed-in user's op that needs storage or a password (history, profile, password,
    /// account deletion): the thread resolves the session's owner and hands it on.
    case accountOp(AccountOp, session: SessionID, target: ReplyTarget, remoteAddress: String)
    /// A connection came back with a resume token.
    case resume(ResumeToken, lastSeq: UInt64, target: ReplyTarget)
    /// A signed-in connection went away (not a logout).
    case connectionLost(SessionID, ConnectionID)
    /// An operator's question (see `AdminAPI`); the answer goes to `respond`.
    case inspect(AdminAPI.Query, respond: @Sendable (HTTPResponse) -> Void)
    /// Counts of the thread's own tables, for tests and diagnostics.
    case probe(@Sendable (PresenceThread.Counts) -> Void)
    /// This shard's sessions, for an operator's list of all of them.
    case summaries(@Sendable ([SessionSummary]) -> Void)
    /// Stop after draining the queue.
    case stop
}

/// The thread that owns one presence shard's core (see `PresenceShards`). Inputs arrive
/// in a bounded `Mailbox`; the thread applies them at the monotonic time (`PresenceClock`),
/// sleeps until the core's next deadline, and carries out every effect: deliveries are
/// encoded once and handed to the event loops, messages to other shards go on the
/// `ClusterBus`, writes go to the storage writer (acks only after COMMIT), mail to the
/// account workers.
///
/// The core's session table is the only one: each session's connection, resume secret and
/// device-token row ride in its `SessionAttachment`, and each delivery carries the
/// connection, so nothing here is keyed by session.
///
/// `@unchecked Sendable`: `inbox` is thread-safe; `core`, `waitingSends` and
/// `effects` are touched only by the thread started in `start()` (and `core` by the
/// restart handover before that thread starts and after it ended, see
/// `PresenceThread+Restart.swift`).
final class PresenceThread: @unchecked Sendable {
    private let inbox: Mailbox<PresenceInput>
    var core: PresenceCore
    /// `send` requests waiting for their commit, by sender and client message ID: the reply
    /// goes out when the core acks the sender (`chatAccepted`), never before. A retry of a
    /// send still committing, from any of the sender's sessions, waits on the same key, and
    /// all of them are answered together.
    var waitingSends: [SendKey: [ReplyTarget]] = [:]

    struct SendKey: Hashable {
        var sender: UserID
        var clientMessageID: String
    }
    var effects: [Effect] = []
    /// Chosen statuses to store, in order, written together once the first of them has
    /// waited `GatewayConfiguration.chosenStatusWriteDelay`, or at once for a Hidden one
    /// (`writeChosenStatuses`).
    var chosenStatusWrites: [(UserID, ChosenStatus)] = []
    /// When `chosenStatusWrites` is due, or nil while it is empty.
    var chosenStatusWritesDue: ContinuousClock.Instant?
    /// Whether the input being handled handed deliveries to the loops (fan-out metric).
    var hasDelivered = false
    unowned let runtime: GatewayRuntime
    /// The arrangement this shard belongs to, which carries its messages to the other
    /// shards (its `ClusterBus`).
    unowned let epoch: PresenceEpoch
    /// This shard's index among this process's threads.
    let local: Int
    let finished = DispatchGroup()
    private let log = Logger(label: "presence")

    let clock: PresenceClock

    /// - Parameter clock: the process's one clock (`PresenceShards.clock`): every shard and
    ///   the restart handover convert times with the same offset.
    init(configuration: PresenceConfiguration, runtime: GatewayRuntime, clock: PresenceClock, placement: ShardPlacement = .single,
         epoch: PresenceEpoch, local: Int) {
        self.clock = clock
        inbox = Mailbox(capacity: runtime.configuration.presenceMailboxCapacity)
        core = PresenceCore(configuration: configuration, now: clock.monotonic(), placement: placement)
        self.runtime = runtime
        self.epoch = epoch
        self.local = local
    }

    /// This thread's shard (in a cluster, its number among all nodes' shards).
    var shard: Int { core.placement.index }

    /// Whether a cluster's re-placement replaced this shard's epoch: it is being stopped.
    var isRetired: Bool { runtime.presence.currentSerial != epoch.serial }

    /// The core's time: monotonic, never the wall clock.
    func now() -> Instant { clock.monotonic() }

    /// Whether `start` ran (set before the thread runs; read by a re-placement).
    private let started = Atomic<Bool>(false)
    var isStarted: Bool { started.load(ordering: .acquiring) }

    func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        finished.enter()
        let t = Thread { [self] in
            _ = cposix_name_this_thread("presence-\(local)")
            run()
            finished.leave()
        }
        t.name = "presence-\(local)"
        t.start()
    }

    /// Queues an input whose number is bounded by something already admitted (a commit
    /// result, a lost connection, a sign-in the accounts accepted): never refused.
    func post(_ input: PresenceInput) {
        inbox.postAdmitted(input)
    }

    /// Queues a client's op, or answers it `overloaded` when the mailbox is full: a flood
    /// of ops waits in no unbounded queue.
    /// - Returns: whether the input was queued.
    @discardableResult
    func offer(_ input: PresenceInput, replyTo target: ReplyTarget) -> Bool {
        do {
            try inbox.post(input)
            return true
        } catch {
            runtime.refuseOverloaded(target)
            return false
        }
    }

    /// Inputs waiting now (a gauge).
    var backlog: Int { inbox.count }

    private func run() {
        var batch: [PresenceInput] = []
        var cacheFlush = ThreadCacheFlush()
        while true {
            // Sleep at most until the core's next deadline (a relative, monotonic wait).
            let wait = core.nextDeadline.map { Int(clamping: max(0, $0.milliseconds - now().milliseconds)) } ?? 60_000
            // Until the waiting chosen statuses are due (rounded up: not awake before).
            let statusWait = chosenStatusWritesDue.map { due in
                let left = (due - ContinuousClock.now).components
                return Int(clamping: max(0, left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000 + 1))
            } ?? Int.max
            inbox.receive(into: &batch, timeoutMilliseconds: min(wait, 60_000, cacheFlush.waitMilliseconds, statusWait))
            cacheFlush.noteWoke(didWork: !batch.isEmpty)
            if batch.isEmpty {
                core.advance(to: now(), into: &effects)
                perform()
                writeChosenStatuses()
                continue
            }
            for input in batch {
                if case .stop = input {
                    writeChosenStatuses(now: nil)
                    return
                }
                let started = ContinuousClock.now
                hasDelivered = false
                handle(input)
                perform()
                if hasDelivered {
                    runtime.metrics.fanOut.recordNanoseconds(GatewayMetrics.nanoseconds(ContinuousClock.now - started))
                }
            }
            writeChosenStatuses()
            recordGauges()
            // A storm's batch capacity is not kept (it ping-pongs with the mailbox's array,
            // so both stayed at the storm's size: 150 B per session at rest after 10,000
            // sign-ins).
            batch.removeAll(keepingCapacity: batch.capacity <= 1024)
        }
    }

    private var nextStatusSample = ContinuousClock.now

    /// Sessions, and users by status at most once a second (a pass over every signed-in
    /// user), summed over the shards.
    private func recordGauges() {
        let now = ContinuousClock.now
        var statuses: [String: Int]?
        if now >= nextStatusSample {
            nextStatusSample = now + .seconds(1)
            statuses = core.usersByStatus
        }
        guard !isRetired else { return }
        runtime.presence.record(sessions: core.sessionCount, statuses: statuses, of: local)
    }
}
