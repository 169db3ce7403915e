import Foundation
import Presence
import Transport

// The presence thread's inputs: sign-ins and resumes (the core first, then the loop learns
// the session, then the reply), client ops and the account ops handed on to workers,
// and lost connections.

extension PresenceThread {
    func handle(_ input: PresenceInput) {
        if isRetired, handleRetired(input) { return }
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
                runtime.reply(target, ReplyEncoder.error(id: target.requestID, ErrorReply(PresenceError.unknownSession)))
                return
            }
            let owner = SessionOwner(session: session, user: user,
                                     deviceTokenID: attachment.deviceTokenID == 0 ? nil : attachment.deviceTokenID)
            // Account ops spend from the session's op bucket like the core's own ops.
            core.advance(to: time, into: &effects)
            do { try core.spendOp(session) } catch {
                runtime.reply(target, ReplyEncoder.error(id: target.requestID, ErrorReply(error)))
                return
            }
            // Who may read a conversation is decided here, by the core the user's contact
            // list lives in, not by storage on the worker: storage can lag the core by a
            // commit, and a history asked for right after `contactAdded` must not answer
            // `not_a_contact` (nor one asked for after `contactRemoved` read on).
            if case .history(let with, _, _) = op {
                let refusal: PresenceError? = with == user ? .cannotTargetSelf : core.areContacts(user, with) ? nil : .notAContact
                if let refusal {
                    runtime.reply(target, ReplyEncoder.error(id: target.requestID, ErrorReply(refusal)))
                    return
                }
            }
            runtime.accountOp(op, owner: owner, target: target, remoteAddress: remoteAddress)
        case .command(let command, let target, let reply):
            var sendKey: SendKey?
            // A logout also revokes the device's "stay signed in" token. Its row is read
            // now: the session's attachment is gone once the core ends the session.
            var loggedOutTokenID: Int64 = 0
            switch command {
            case .send(let session, _, let clientMessageID, _):
                if let target, let sender = core.user(of: session) {
                    sendKey = SendKey(sender: sender, clientMessageID: clientMessageID)
                    waitingSends[sendKey!, default: []].append(target)
                }
            case .signOut(let session):
                loggedOutTokenID = core.attachment(of: session)?.deviceTokenID ?? 0
            default:
                break
            }
            do {
                try core.apply(command, at: time, into: &effects)
                if let target, sendKey == nil {
                    runtime.reply(target, reply ?? ReplyEncoder.ok(id: target.requestID))
                }
                // On a worker, after the reply.
                if loggedOutTokenID != 0 { runtime.revokeDeviceToken(loggedOutTokenID) }
            } catch {
                if let sendKey {
                    waitingSends[sendKey]?.removeLast()
                    if waitingSends[sendKey]?.isEmpty == true { waitingSends[sendKey] = nil }
                }
                if let target { runtime.reply(target, ReplyEncoder.error(id: target.requestID, ErrorReply(error))) }
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
                     device: device, target: target, reply: ReplyEncoder.resume(id: target.requestID, session: token.session, node: epoch.qualifier), at: time),
               let old, old != target.connection {
                runtime.close(old, code: GatewayCloseCode.resumeImpossible.closeCode, reason: "resumed on another connection", epoch: epoch.tag)
            }
        case .connectionLost(let session, let connection):
            // Only the connection that holds the session may end it (a resume moved it).
            guard core.attachment(of: session)?.connection == connection.packed else { return }
            try? core.apply(.connectionLost(session), at: time, into: &effects)
        case .inspect(let query, let respond):
            answer(query, respond: respond, at: time)
        case .probe(let respond):
            respond(Counts(sessions: core.sessionCount, waitingSends: waitingSends.count))
        case .summaries(let respond):
            respond(core.sessionSummaries)
        case .stop:
            return
        }
    }

    /// A retired shard (its epoch replaced, its stop on the way) starts no session: a
    /// sign-in goes on to the current epoch, and a resume finds nothing to resume (the
    /// re-placement closes every session of the old epoch).
    /// - Returns: whether the input was dealt with.
    private func handleRetired(_ input: PresenceInput) -> Bool {
        switch input {
        case .signIn(_, let target, _) where RemoteConnection.parse(target.connection) != nil:
            // Another node's connection, named in this epoch's slots: its edge's
            // re-placement closes it (signing in), and the client signs in again.
            return true
        case .signIn, .signInSubscriber:
            runtime.presence.post(input)
            return true
        case .resume(_, _, let target):
            runtime.signInRefused(target, session: nil, ErrorReply(PresenceError.unknownSession))
            return true
        default:
            return false
        }
    }

    /// The sign-in reply, with the session the core issues and its resume token.
    func signInReply(_ session: SessionID, _ attachment: SessionAttachment, _ principal: SignInReply.Principal,
                             _ target: ReplyTarget) -> [UInt8] {
        let token = ResumeToken(session: session, secretHigh: attachment.secretHigh, secretLow: attachment.secretLow,
                                node: epoch.qualifier.node)
        return ReplyEncoder.signIn(id: target.requestID, SignInReply(session: session, resumeToken: token, principal: principal))
    }


    /// Starts (or resumes) a session on a connection: the core first, and only if it agrees
    /// does the loop learn the session and the reply go out, both before any event the
    /// command caused (those are performed after `handle` returns).
    /// - Returns: whether the core agreed.
    @discardableResult
    func start(_ command: Command, session: SessionID, device: Presence.DeviceKind?, target: ReplyTarget,
                       reply: [UInt8], at time: Instant) -> Bool {
        do {
            try core.apply(command, at: time, into: &effects)
        } catch {
            runtime.signInRefused(target, session: session, ErrorReply(error))
            return false
        }
        // The loop learns the session before the reply leaves (both go through the loop's
        // queue in order), so the client's next op already finds it signed in.
        runtime.markSignedIn(target.connection, session: session, device: device, epoch: epoch)
        runtime.reply(target, reply)
        return true
    }
}
