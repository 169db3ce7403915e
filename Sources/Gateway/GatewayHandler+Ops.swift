import Accounts
import Foundation
import Presence
import Transport
import WebSocket

extension GatewayHandler {
    /// Routes one decoded op: sign-ins to the account workers, everything a signed-in
    /// session does to the presence thread (which owns the session and, for the few ops
    /// that need storage or a password, hands them on to a worker with the session's user).
    /// Every op gets exactly one reply.
    func dispatch(_ request: ClientRequest, from id: ConnectionID, word: ConnectionWord, remoteAddress: String, on loop: EventLoop) {
        let target = ReplyTarget(connection: id, requestID: request.id)
        switch (request.op, word.phase) {
        case (.signIn(let credential), .awaitingSignIn):
            loop.setHandlerWord(ConnectionWord.signingIn(SignInMethod(credential)).raw, for: id)
            runtime.signIn(credential, target: target, remoteAddress: remoteAddress)
        case (.resume(let token, let lastSeq), .awaitingSignIn):
            guard let token = ResumeToken(text: token) else {
                reply(id, ReplyEncoder.error(id: request.id, ErrorReply(PresenceError.unknownSession)), on: loop)
                return
            }
            loop.setHandlerWord(ConnectionWord.signingIn(.resume).raw, for: id)
            if !runtime.presence.offer(.resume(token, lastSeq: lastSeq, target: target), replyTo: target) {
                // Refused `overloaded`: the connection may try again.
                loop.setHandlerWord(ConnectionWord.awaitingSignIn.raw, for: id)
            }
        case (.signIn, _), (.resume, _):
            reply(id, ReplyEncoder.error(id: request.id, ErrorReply(WireError.alreadySignedIn)), on: loop)
        case (_, .awaitingSignIn), (_, .signingIn), (_, .none):
            reply(id, ReplyEncoder.error(id: request.id, ErrorReply(WireError.notSignedIn)), on: loop)
        case (let op, .subscriber):
            switch op {
            case .subscribe, .unsubscribe, .logOut, .heartbeat:
                runtime.presence.offer(.command(op.presenceCommand(for: word.session)!, target: target), replyTo: target)
            default:
                reply(id, ReplyEncoder.error(id: request.id, ErrorReply(PresenceError.wrongSessionKind)), on: loop)
            }
        case (let op, .user):
            signedInOp(op, target: target, session: word.session, remoteAddress: remoteAddress)
        }
    }

    private func signedInOp(_ op: ClientOp, target: ReplyTarget, session: SessionID, remoteAddress: String) {
        switch op {
        case .history, .updateProfile, .changePassword, .deleteAccount, .logOut:
            runtime.presence.offer(.accountOp(op, session: session, target: target, remoteAddress: remoteAddress), replyTo: target)
        case .invite:
            let call = runtime.newCallID()
            guard let command = op.presenceCommand(for: session, newCall: call) else { return }
            runtime.presence.offer(.command(command, target: target, reply: ReplyEncoder.invite(id: target.requestID, call: call)),
                                   replyTo: target)
        default:
            guard let command = op.presenceCommand(for: session) else {
                runtime.server.send(target.connection, opcode: .text,
                                    payload: ReplyEncoder.error(id: target.requestID, ErrorReply(WireError.unknownOp(op.name))))
                return
            }
            runtime.presence.offer(.command(command, target: target), replyTo: target)
        }
    }
}
