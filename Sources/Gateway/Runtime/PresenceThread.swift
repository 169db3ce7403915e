import Foundation
import Logging
import Presence
import Storage
import Synchronization
import Transport
import WebSocket

/// Where a reply goes: the connection and the client's request ID.
struct ReplyTarget: Sendable {
    var connection: ConnectionID
    var requestID: String
}

/// Work for the presence thread.
enum PresenceInput: Sendable {
    /// A user signed in on `target.connection`; the core issues the session, and the reply
    /// (session, resume token, `principal`) goes out once it agrees.
    case signIn(SignIn, target: ReplyTarget, principal: SignInReply.Principal)
    /// A watch-only subscriber signed in.
    case signInSubscriber(allowed: Set<UserID>, attachment: SessionAttachment, target: ReplyTarget, principal: SignInReply.Principal)
    /// A client op mapped to a core command; `reply` overrides the plain `ok`.
    case command(Command, target: ReplyTarget?, reply: [UInt8]? = nil)
    /// A signed-in user's op that needs storage or a password (history, profile, password,
    /// account deletion, logout): the thread resolves the session's owner and hands it on.
    case accountOp(ClientOp, session: SessionID, target: ReplyTarget, remoteAddress: String)
    /// A connection came back with a resume token.
    case resume(ResumeToken, lastSeq: UInt64, target: ReplyTarget)
    /// A signed-in connection went away (not a logout).
    case connectionLost(SessionID, ConnectionID)
    /// An operator's question (see `AdminAPI`); the answer goes to `respond`.
    case inspect(AdminAPI.Query, respond: @Sendable (HTTPResponse) -> Void)
    /// Counts of the thread's own tables, for tests and diagnostics.
    case probe(@Sendable (PresenceThread.Counts) -> Void)
    /// Stop after draining the queue.
    case stop
}

/// The one thread that owns the presence core. Inputs arrive in a bounded `Mailbox`; the
/// thread applies them at the monotonic time (`PresenceClock`), sleeps until the core's
/// next deadline, and carries out
/// every effect: deliveries are encoded once and handed to the event loops, writes go to the
/// storage writer (acks only after COMMIT), mail to the account workers.
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
    private var waitingSends: [SendKey: [ReplyTarget]] = [:]

    struct SendKey: Hashable {
        var sender: UserID
        var clientMessageID: String
    }
    private var effects: [Effect] = []
    /// Whether the input being handled handed deliveries to the loops (fan-out metric).
    private var hasDelivered = false
    private unowned let runtime: GatewayRuntime
    let finished = DispatchGroup()
    private let log = Logger(label: "presence")

    let clock: PresenceClock

    init(configuration: PresenceConfiguration, runtime: GatewayRuntime) {
        clock = PresenceClock(wall: runtime.configuration.clock, monotonic: runtime.configuration.monotonicClock)
        inbox = Mailbox(capacity: runtime.configuration.presenceMailboxCapacity)
        core = PresenceCore(configuration: configuration, now: clock.monotonic())
        self.runtime = runtime
    }

    /// The core's time: monotonic, never the wall clock.
    func now() -> Instant { clock.monotonic() }

    func start() {
        finished.enter()
        let t = Thread { [self] in
            run()
            finished.leave()
        }
        t.name = "presence"
        t.start()
    }

    /// Queues an input whose number is bounded by something already admitted (a commit
    /// result, a lost connection, a sign-in the accounts accepted): never refused.
    func post(_ input: PresenceInput) {
        inbox.postAdmitted(input)
    }

    /// Queues a client's op, or answers it `overloaded` when the mailbox is full: a flood
    /// of ops waits in no unbounded queue.
    func offer(_ input: PresenceInput, replyTo target: ReplyTarget) {
        do { try inbox.post(input) } catch {
            runtime.metrics.overloaded.increment()
            runtime.server.send(target.connection, opcode: .text,
                                payload: ReplyEncoder.error(id: target.requestID, ErrorReply(WireError.overloaded)))
        }
    }

    /// Inputs waiting now (a gauge).
    var backlog: Int { inbox.count }

    func stop() {
        post(.stop)
        _ = finished.wait(timeout: .now() + 5)
    }

    private func run() {
        var batch: [PresenceInput] = []
        while true {
            // Sleep at most until the core's next deadline (a relative, monotonic wait).
            let wait = core.nextDeadline.map { Int(clamping: max(0, $0.milliseconds - now().milliseconds)) } ?? 60_000
            inbox.receive(into: &batch, timeoutMilliseconds: min(wait, 60_000))
            if batch.isEmpty {
                core.advance(to: now(), into: &effects)
                perform()
                continue
            }
            for input in batch {
                if case .stop = input { return }
                let started = ContinuousClock.now
                hasDelivered = false
                handle(input)
                perform()
                if hasDelivered {
                    runtime.metrics.fanOut.recordNanoseconds(GatewayMetrics.nanoseconds(ContinuousClock.now - started))
                }
            }
            runtime.metrics.coreSessions.record(core.sessionCount)
            recordStatusGauges()
            batch.removeAll(keepingCapacity: true)
        }
    }

    private var nextStatusSample = ContinuousClock.now

    /// Users by status, at most once a second: a pass over every signed-in user.
    private func recordStatusGauges() {
        let now = ContinuousClock.now
        guard now >= nextStatusSample else { return }
        nextStatusSample = now + .seconds(1)
        let counts = core.usersByStatus
        for (status, gauge) in runtime.metrics.usersByStatus { gauge.record(counts[status] ?? 0) }
    }

    // MARK: - Inputs

    private func handle(_ input: PresenceInput) {
        let time = now()
        switch input {
        case .signIn(var request, let target, let principal):
            request.session = core.nextSessionID
            start(.signIn(request), session: request.session, device: request.device, target: target,
                  reply: signInReply(request.session, request.attachment, principal, target), at: time)
        case .signInSubscriber(let allowed, let attachment, let target, let principal):
            let session = core.nextSessionID
            start(.signInSubscriber(session, allowed: allowed, attachment: attachment), session: session, device: nil, target: target,
                  reply: signInReply(session, attachment, principal, target), at: time)
        case .accountOp(let op, let session, let target, let remoteAddress):
            guard let user = core.user(of: session), let attachment = core.attachment(of: session) else {
                runtime.server.send(target.connection, opcode: .text,
                                    payload: ReplyEncoder.error(id: target.requestID, ErrorReply(PresenceError.unknownSession)))
                return
            }
            let owner = SessionOwner(session: session, user: user,
                                     deviceTokenID: attachment.deviceTokenID == 0 ? nil : attachment.deviceTokenID)
            if case .logOut = op {} else {
                // These ops spend from the session's op bucket like the core's own.
                core.advance(to: time, into: &effects)
                do { try core.spendOp(session) } catch {
                    runtime.server.send(target.connection, opcode: .text, payload: ReplyEncoder.error(id: target.requestID, ErrorReply(error)))
                    return
                }
            }
            if case .logOut = op {
                // The session ends here (the reply first, then its close); the token's
                // revocation follows on a worker.
                handle(.command(.signOut(session), target: target))
            }
            runtime.accountOp(op, owner: owner, target: target, remoteAddress: remoteAddress)
        case .command(let command, let target, let reply):
            var sendKey: SendKey?
            if case .send(let session, _, let clientMessageID, _) = command, let target, let sender = core.user(of: session) {
                sendKey = SendKey(sender: sender, clientMessageID: clientMessageID)
                waitingSends[sendKey!, default: []].append(target)
            }
            do {
                try core.apply(command, at: time, into: &effects)
                if let target, sendKey == nil {
                    runtime.server.send(target.connection, opcode: .text, payload: reply ?? ReplyEncoder.ok(id: target.requestID))
                }
            } catch {
                if let sendKey {
                    waitingSends[sendKey]?.removeLast()
                    if waitingSends[sendKey]?.isEmpty == true { waitingSends[sendKey] = nil }
                }
                if let target { runtime.server.send(target.connection, opcode: .text, payload: ReplyEncoder.error(id: target.requestID, ErrorReply(error))) }
            }
        case .resume(let token, let lastSeq, let target):
            guard let attachment = core.attachment(of: token.session),
                  token.hasSecret(high: attachment.secretHigh, low: attachment.secretLow) else {
                // Ended, never existed, or the wrong secret: all look the same from outside.
                runtime.signInRefused(target, session: nil, ErrorReply(PresenceError.unknownSession))
                return
            }
            let old = ConnectionID(packed: attachment.connection)
            let device: Presence.DeviceKind? = core.user(of: token.session) == nil ? nil : core.device(of: token.session)
            // A refusal (`resume_impossible`) ends the session: its close effect then names
            // the old connection (if any), never this one, which stays open for a fresh sign-in.
            if start(.resume(token.session, lastSeenSequence: lastSeq, connection: target.connection.packed), session: token.session,
                     device: device, target: target, reply: ReplyEncoder.resume(id: target.requestID, session: token.session), at: time),
               let old, old != target.connection {
                runtime.server.close(old, code: GatewayCloseCode.resumeImpossible.closeCode, reason: "resumed on another connection")
            }
        case .connectionLost(let session, let connection):
            // Only the connection that holds the session may end it (a resume moved it).
            guard core.attachment(of: session)?.connection == connection.packed else { return }
            try? core.apply(.connectionLost(session), at: time, into: &effects)
        case .inspect(let query, let respond):
            switch query {
            case .sessions:
                respond(AdminAPI.sessions(core.sessionSummaries, wall: clock.mapping()))
            case .explain(let user):
                respond(AdminAPI.explanation(core.explain(user), of: user, wall: clock.mapping()))
            case .kick(let session):
                do {
                    try core.apply(.signOut(session), at: time, into: &effects)
                    respond(HTTPWire.jsonResponse(200, Array(#"{"status":"kicked"}"#.utf8)))
                } catch {
                    respond(HTTPWire.errorResponse(ErrorReply(error)))
                }
            }
        case .probe(let respond):
            respond(Counts(sessions: core.sessionCount, waitingSends: waitingSends.count))
        case .stop:
            return
        }
    }

    /// The sign-in reply, with the session the core issues and its resume token.
    private func signInReply(_ session: SessionID, _ attachment: SessionAttachment, _ principal: SignInReply.Principal,
                             _ target: ReplyTarget) -> [UInt8] {
        let token = ResumeToken(session: session, secretHigh: attachment.secretHigh, secretLow: attachment.secretLow)
        return ReplyEncoder.signIn(id: target.requestID, SignInReply(session: session, resumeToken: token, principal: principal))
    }

    /// Sizes of the presence thread's tables.
    struct Counts: Sendable {
        var sessions: Int
        var waitingSends: Int
    }

    /// Starts (or resumes) a session on a connection: the core first, and only if it agrees
    /// does the loop learn the session and the reply go out, both before any event the
    /// command caused (those are performed after `handle` returns).
    /// - Returns: whether the core agreed.
    @discardableResult
    private func start(_ command: Command, session: SessionID, device: Presence.DeviceKind?, target: ReplyTarget,
                       reply: [UInt8], at time: Instant) -> Bool {
        do {
            try core.apply(command, at: time, into: &effects)
        } catch {
            runtime.signInRefused(target, session: session, ErrorReply(error))
            return false
        }
        // The loop learns the session before the reply leaves (both go through the loop's
        // queue in order), so the client's next op already finds it signed in.
        runtime.markSignedIn(target.connection, session: session, device: device)
        runtime.server.send(target.connection, opcode: .text, payload: reply)
        return true
    }

    // MARK: - Effects

    private func perform() {
        for effect in effects { perform(effect) }
        effects.removeAll(keepingCapacity: true)
    }

    private func perform(_ effect: Effect) {
        switch effect {
        case .deliver(let event, let deliveries):
            deliver(event, deliveries)
        case .close(_, let reason, let connection):
            let code = GatewayCloseCode(reason)
            if let connection = ConnectionID(packed: connection) {
                runtime.server.send(connection, opcode: .text, payload: ReplyEncoder.closing(code))
                runtime.server.close(connection, code: code.closeCode, reason: code.reason)
            }
        case .persistChosenStatus(let user, let status):
            runtime.write { db in _ = try PresenceStore(db).setChosenStatus(of: user.email, to: status.wireName) }
        case .persistContact(let record):
            let now = clock.wall().milliseconds
            runtime.write { db in
                let store = ContactStore(db)
                switch record.state {
                case .requestedByMe?: _ = try store.request(from: record.user.email, to: record.other.email, at: now)
                case .requestedByThem?: _ = try store.request(from: record.other.email, to: record.user.email, at: now)
                case .accepted?:
                    if try !store.accept(by: record.user.email, from: record.other.email, at: now) {
                        _ = try store.request(from: record.user.email, to: record.other.email, at: now)
                        _ = try store.accept(by: record.user.email, from: record.other.email, at: now)
                    }
                case nil: _ = try store.remove(record.user.email, record.other.email)
                }
            }
        case .persistMessage(let message):
            runtime.commitMessage(message, sentAt: clock.mapping().wall(message.sentAt)) { [self] result in
                switch result {
                case .success(let id): post(.command(.messageCommitted(message.ticket, MessageID(UInt64(id))), target: nil))
                case .failure: post(.command(.messageFailed(message.ticket), target: nil))
                }
            }
        case .markDelivered(let id, _):
            runtime.write { db in _ = try MessageStore(db).markDelivered(ids: [Int64(id.rawValue)]) }
        case .persistMissedCall(let call):
            let at = clock.mapping().wall(call.at).milliseconds
            runtime.write { db in
                try PresenceStore(db).recordMissedCall(callID: Int64(call.call.rawValue), caller: call.caller.email,
                                                       callee: call.callee.email, at: at)
            }
        case .sendOfflineMail(let mail):
            runtime.queueOfflineMail(mail)
        case .answerSend(let sender, let clientMessageID, let outcome):
            answerSends(SendKey(sender: sender, clientMessageID: clientMessageID), outcome)
        }
    }

    private func deliver(_ event: Event, _ deliveries: [Delivery]) {
        var recipients: [(ConnectionID, UInt64)] = []
        recipients.reserveCapacity(deliveries.count)
        for d in deliveries {
            if let connection = ConnectionID(packed: d.connection) { recipients.append((connection, d.sequence)) }
        }
        guard !recipients.isEmpty else { return }
        // Encoded once for every recipient; each gets only its own `{"seq":N,` prefix.
        // Timestamps leave as wall-clock time (`PresenceClock`).
        let body = EventEncoder.encodeEventBody(event, wallOffset: clock.mapping().offset)
        runtime.server.deliver(body: body, to: recipients) { seq, buffer in EventEncoder.eventPrefix(seq: seq, into: &buffer) }
        hasDelivered = true
    }

    /// Answers every request waiting on this send, from whichever sessions, whether or not
    /// any of them is still connected, and forgets the key: the one place entries leave.
    private func answerSends(_ key: SendKey, _ outcome: SendOutcome) {
        guard let targets = waitingSends.removeValue(forKey: key) else { return }
        for t in targets {
            let reply: [UInt8]
            switch outcome {
            case .accepted(let ack):
                reply = ReplyEncoder.chatAccepted(id: t.requestID, ack)
            case .failed:
                reply = ReplyEncoder.error(id: t.requestID, ErrorReply(code: "storage_failed", message: "The message was not stored; send it again.",
                                                                      httpStatus: 503))
            }
            runtime.server.send(t.connection, opcode: .text, payload: reply)
        }
    }
}
