// Messages from other presence shards (`Command.fromShard`). Each kind is handled next to
// the feature it belongs to; this is only the switch.

extension PresenceCore {
    mutating func receive(_ message: ShardMessage, into effects: inout [Effect]) {
        switch message {
        case .published(let subject, let view, let reveals):
            receivePublished(subject: subject, view: view, reveals: reveals, into: &effects)
        case .deliverToUser(let event, let id):
            if let user = ref(of: id), isLocal(user) { send(event, toSessionsOf: user, into: &effects) }
        case .deliverToSession(let event, let session):
            if session.shard == placement.index { send(event, toSession: session, into: &effects) }
        case .chat(let message):
            let recipient = intern(message.recipient)
            if isLocal(recipient) { deliverChat(message, to: recipient, into: &effects) }
        case .pairRequest(let change, let actor, let other, let seen):
            receivePairRequest(change, actor: actor, other: other, seen: seen, into: &effects)
        case .pairSet(let a, let b, let state):
            receivePairSet(a: a, b: b, state: state, into: &effects)
        case .introduce(let subject, let observer, let view):
            receiveIntroduce(subject: subject, observer: observer, view: view, into: &effects)
        case .watch(let user, let shard, let isWatching):
            receiveWatch(user: user, shard: shard, isWatching: isWatching, into: &effects)
        case .accountDeleted(let id):
            receiveAccountDeleted(id, into: &effects)
        case .callInvite(let id, let caller, let callerSession, let callee, let payload):
            receiveCallInvite(id, caller: caller, callerSession: callerSession, callee: callee, payload: payload,
                              into: &effects)
        case .callBusy(let id):
            receiveCallBusy(id, into: &effects)
        case .callOffered(let id):
            receiveCallOffered(id, into: &effects)
        case .callAnswered(let id, let calleeSession, let payload):
            receiveCallAnswered(id, calleeSession: calleeSession, payload: payload, into: &effects)
        case .callSilenced(let id):
            receiveCallSilenced(id)
        case .callFinished(let id, let reason):
            receiveCallFinished(id, reason: reason, into: &effects)
        }
    }
}
