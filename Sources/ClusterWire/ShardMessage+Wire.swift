import Presence

// A `ShardMessage`: a tag, then the case's fields in declaration order (Protocol/cluster.md,
// "Messages").

extension Array where Element == UInt8 {
    mutating func appendMessage(_ message: ShardMessage) {
        switch message {
        case .published(let subject, let view, let reveals):
            append(MessageTag.published.rawValue)
            appendUserID(subject)
            appendView(view)
            appendVarint(UInt64(reveals.count))
            for reveal in reveals {
                appendUserID(reveal.observer)
                appendView(reveal.view)
            }
        case .deliverToUser(let event, let user):
            append(MessageTag.deliverToUser.rawValue)
            appendEvent(event)
            appendUserID(user)
        case .deliverToSession(let event, let session):
            append(MessageTag.deliverToSession.rawValue)
            appendEvent(event)
            appendFixed64(session.rawValue)
        case .chat(let chat):
            append(MessageTag.chat.rawValue)
            appendChatMessage(chat)
        case .pairRequest(let change, let actor, let other, let seen):
            append(MessageTag.pairRequest.rawValue)
            append(WireValue.byte(for: change))
            appendUserID(actor)
            appendUserID(other)
            appendContactState(seen)
        case .pairSet(let a, let b, let state):
            append(MessageTag.pairSet.rawValue)
            appendUserID(a)
            appendUserID(b)
            appendContactState(state)
        case .introduce(let subject, let observer, let view):
            append(MessageTag.introduce.rawValue)
            appendUserID(subject)
            appendUserID(observer)
            appendView(view)
        case .watch(let user, let shard, let isWatching):
            // One byte: a shard number is below `ShardPlacement.maxCount` (64), and a
            // session ID keeps its shard in 8 bits too.
            precondition((0...255).contains(shard), "shard \(shard) does not fit the wire's byte")
            append(MessageTag.watch.rawValue)
            appendUserID(user)
            append(UInt8(shard))
            appendBool(isWatching)
        case .accountDeleted(let user):
            append(MessageTag.accountDeleted.rawValue)
            appendUserID(user)
        case .callInvite(let call, let caller, let callerSession, let callee, let payload):
            append(MessageTag.callInvite.rawValue)
            appendFixed64(call.rawValue)
            appendUserID(caller)
            appendFixed64(callerSession.rawValue)
            appendUserID(callee)
            appendString(payload)
        case .callBusy(let call):
            append(MessageTag.callBusy.rawValue)
            appendFixed64(call.rawValue)
        case .callOffered(let call):
            append(MessageTag.callOffered.rawValue)
            appendFixed64(call.rawValue)
        case .callAnswered(let call, let calleeSession, let payload):
            append(MessageTag.callAnswered.rawValue)
            appendFixed64(call.rawValue)
            appendFixed64(calleeSession.rawValue)
            appendString(payload)
        case .callSilenced(let call):
            append(MessageTag.callSilenced.rawValue)
            appendFixed64(call.rawValue)
        case .callFinished(let call, let reason):
            append(MessageTag.callFinished.rawValue)
            appendFixed64(call.rawValue)
            if let reason {
                append(1)
                append(WireValue.byte(for: reason))
            } else {
                append(0)
            }
        }
    }

    mutating func appendContactState(_ state: ContactState?) {
        if let state {
            append(1)
            append(WireValue.byte(for: state))
        } else {
            append(0)
        }
    }
}

extension WireReader {
    mutating func message() throws(ClusterWireError) -> ShardMessage {
        let at = offset
        let raw = try byte()
        guard let tag = MessageTag(rawValue: raw) else { throw .unknownMessageTag(raw, offset: at) }
        switch tag {
        case .published:
            let subject = try userID()
            let view = try view()
            let count = try count(minimumSize: WireSize.userID + WireSize.view)
            var reveals: [RevealedView] = []
            reveals.reserveCapacity(count)
            for _ in 0..<count {
                let observer = try userID()
                reveals.append(RevealedView(observer: observer, view: try self.view()))
            }
            return .published(subject: subject, view: view, reveals: reveals)
        case .deliverToUser:
            let event = try event()
            return .deliverToUser(event, user: try userID())
        case .deliverToSession:
            let event = try event()
            return .deliverToSession(event, session: SessionID(try fixed64()))
        case .chat:
            return .chat(try chatMessage())
        case .pairRequest:
            let change = try value(WireValue.pairChange)
            let actor = try userID()
            let other = try userID()
            return .pairRequest(change, actor: actor, other: other, seen: try contactState())
        case .pairSet:
            let a = try userID()
            let b = try userID()
            return .pairSet(a: a, b: b, state: try contactState())
        case .introduce:
            let subject = try userID()
            let observer = try userID()
            return .introduce(subject: subject, observer: observer, view: try view())
        case .watch:
            let user = try userID()
            let shard = Int(try byte())
            return .watch(user: user, shard: shard, isWatching: try bool())
        case .accountDeleted:
            return .accountDeleted(try userID())
        case .callInvite:
            let call = CallID(try fixed64())
            let caller = try userID()
            let callerSession = SessionID(try fixed64())
            let callee = try userID()
            return .callInvite(call, caller: caller, callerSession: callerSession, callee: callee,
                               payload: try string())
        case .callBusy:
            return .callBusy(CallID(try fixed64()))
        case .callOffered:
            return .callOffered(CallID(try fixed64()))
        case .callAnswered:
            let call = CallID(try fixed64())
            let calleeSession = SessionID(try fixed64())
            return .callAnswered(call, calleeSession: calleeSession, payload: try string())
        case .callSilenced:
            return .callSilenced(CallID(try fixed64()))
        case .callFinished:
            let call = CallID(try fixed64())
            return .callFinished(call, reason: try isPresent() ? try value(WireValue.callEndReason) : nil)
        }
    }

    mutating func contactState() throws(ClusterWireError) -> ContactState? {
        try isPresent() ? try value(WireValue.contactState) : nil
    }
}
