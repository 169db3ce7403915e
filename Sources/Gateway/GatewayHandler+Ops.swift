import Accounts
import Foundation
import Presence
import Transport
import WebSocket

extension GatewayHandler {
    /// Routes one decoded op: sign-ins to the account workers, everything a signed-in
    /// session does to the presence thread (which owns the session and, for the account
    /// ops, hands them on to a worker with the session's user). Every op gets exactly one
    /// reply.
    func dispatch(_ request: ClientRequest, from id: ConnectionID, word: ConnectionWord, remoteAddress: String, on loop: EventLoop) {
        let target = ReplyTarget(connection: id, requestID: request.id)
        switch (request.op, word.phase) {
        case (.signIn(let credential), .awaitingSignIn):
            loop.setHandlerWord(ConnectionWord.signingIn(SignInMethod(credential)).raw, for: id)
            // No deadline while it is checked here, however long storage takes (a storm's
            // queue); on a cluster node one starts when it crosses to its home
            // (`GatewayRuntime.awaitHome`).
            runtime.signIn(credential, target: target, remoteAddress: remoteAddress)
        case (.resume(let token, let lastSeq), .awaitingSignIn):
            // A token of another node (or, in a cluster, of none) is as unknown as an
            // expired one: the client signs in again (NodeQualifier).
            let epoch = runtime.presence.current
            guard let token = ResumeToken(text: token), token.node == epoch.nodeID(ofShard: token.session.shard) else {
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
        case (.command(let command), .subscriber):
            switch command {
            case .subscribe, .unsubscribe, .signOut, .heartbeat:
                runtime.presence.offer(.command(command, target: target), replyTo: target)
            default:
                reply(id, ReplyEncoder.error(id: request.id, ErrorReply(PresenceError.wrongSessionKind)), on: loop)
            }
        case (.account, .subscriber):
            reply(id, ReplyEncoder.error(id: request.id, ErrorReply(PresenceError.wrongSessionKind)), on: loop)
        case (.command, .user), (.account, .user):
            if let input = runtime.userInput(request.op, session: word.session, target: target, remoteAddress: remoteAddress) {
                runtime.presence.offer(input, replyTo: target)
            }
        }
    }
}

extension GatewayRuntime {
    /// A signed-in user's op as the presence input it becomes: the same on the node that
    /// holds the socket and, in a cluster, on the session's home, which gets the client's
    /// text (`ClusterNode.forwardOp`). Nil for a sign-in or resume (already signed in).
    func userInput(_ op: ClientOp, session: SessionID, target: ReplyTarget, remoteAddress: String) -> PresenceInput? {
        switch op {
        case .command(.invite(let session, let callee, _, let payload)):
            // The gateway picks the call here, so the reply can name it at once.
            let call = newCallID()
            return .command(.invite(session, callee: callee, call: call, payload: payload), target: target,
                            reply: ReplyEncoder.invite(id: target.requestID, call: call))
        case .command(let command):
            return .command(command, target: target)
        case .account(let op):
            return .accountOp(op, session: session, target: target, remoteAddress: remoteAddress)
        case .signIn, .resume:
            return nil
        }
    }
}
