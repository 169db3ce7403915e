import Presence

// An `Event` inside `deliverToUser` and `deliverToSession`: a tag, then the case's fields
// in declaration order (Protocol/cluster.md, "Events").

extension Array where Element == UInt8 {
    mutating func appendEvent(_ event: Event) {
        switch event {
        case .snapshot(let snapshot):
            append(EventTag.snapshot.rawValue)
            append(WireValue.byte(for: snapshot.chosenStatus))
            appendContactPresences(snapshot.contacts)
            appendUserIDs(snapshot.incomingRequests)
            appendUserIDs(snapshot.outgoingRequests)
        case .ownStatus(let status):
            append(EventTag.ownStatus.rawValue)
            append(WireValue.byte(for: status))
        case .presence(let user, let view):
            append(EventTag.presence.rawValue)
            appendUserID(user)
            appendView(view)
        case .contactRequestReceived(let from):
            append(EventTag.contactRequestReceived.rawValue)
            appendUserID(from)
        case .contactRequestSent(let to):
            append(EventTag.contactRequestSent.rawValue)
            appendUserID(to)
        case .contactAdded(let user, let view):
            append(EventTag.contactAdded.rawValue)
            appendUserID(user)
            appendView(view)
        case .contactRemoved(let user):
            append(EventTag.contactRemoved.rawValue)
            appendUserID(user)
        case .chat(let message):
            append(EventTag.chat.rawValue)
            appendChatMessage(message)
        case .chatAccepted(let ack):
            append(EventTag.chatAccepted.rawValue)
            appendString(ack.clientMessageID)
            appendFixed64(ack.messageID.rawValue)
            append(WireValue.byte(for: ack.receipt))
        case .chatFailed(let clientMessageID):
            append(EventTag.chatFailed.rawValue)
            appendString(clientMessageID)
        case .callIncoming(let call, let from, let payload):
            append(EventTag.callIncoming.rawValue)
            appendFixed64(call.rawValue)
            appendUserID(from)
            appendString(payload)
        case .callRinging(let call):
            append(EventTag.callRinging.rawValue)
            appendFixed64(call.rawValue)
        case .callAccepted(let call, let payload):
            append(EventTag.callAccepted.rawValue)
            appendFixed64(call.rawValue)
            appendString(payload)
        case .callAnsweredElsewhere(let call):
            append(EventTag.callAnsweredElsewhere.rawValue)
            appendFixed64(call.rawValue)
        case .callSignal(let call, let payload):
            append(EventTag.callSignal.rawValue)
            appendFixed64(call.rawValue)
            appendString(payload)
        case .callEnded(let call, let reason):
            append(EventTag.callEnded.rawValue)
            appendFixed64(call.rawValue)
            append(WireValue.byte(for: reason))
        case .subscriptionSnapshot(let list):
            append(EventTag.subscriptionSnapshot.rawValue)
            appendContactPresences(list)
        case .subscriptionEnded(let user):
            append(EventTag.subscriptionEnded.rawValue)
            appendUserID(user)
        }
    }

    mutating func appendChatMessage(_ message: ChatMessage) {
        appendFixed64(message.id.rawValue)
        appendUserID(message.sender)
        appendUserID(message.recipient)
        appendString(message.clientMessageID)
        appendString(message.body)
        appendInstant(message.sentAt)
    }

    mutating func appendContactPresences(_ list: [ContactPresence]) {
        appendVarint(UInt64(list.count))
        for entry in list {
            appendUserID(entry.user)
            appendView(entry.view)
        }
    }
}

extension WireReader {
    mutating func event() throws(ClusterWireError) -> Event {
        let at = offset
        let raw = try byte()
        guard let tag = EventTag(rawValue: raw) else { throw .unknownEventTag(raw, offset: at) }
        switch tag {
        case .snapshot:
            let chosen = try value(WireValue.chosenStatus)
            let contacts = try contactPresences()
            let incoming = try userIDs()
            let outgoing = try userIDs()
            return .snapshot(Snapshot(chosenStatus: chosen, contacts: contacts,
                                      incomingRequests: incoming, outgoingRequests: outgoing))
        case .ownStatus:
            return .ownStatus(try value(WireValue.chosenStatus))
        case .presence:
            let user = try userID()
            return .presence(user, try view())
        case .contactRequestReceived:
            return .contactRequestReceived(from: try userID())
        case .contactRequestSent:
            return .contactRequestSent(to: try userID())
        case .contactAdded:
            let user = try userID()
            return .contactAdded(user, try view())
        case .contactRemoved:
            return .contactRemoved(try userID())
        case .chat:
            return .chat(try chatMessage())
        case .chatAccepted:
            let clientMessageID = try string()
            let messageID = MessageID(try fixed64())
            let receipt = try value(WireValue.deliveryReceipt)
            return .chatAccepted(ChatAck(clientMessageID: clientMessageID, messageID: messageID, receipt: receipt))
        case .chatFailed:
            return .chatFailed(clientMessageID: try string())
        case .callIncoming:
            let call = CallID(try fixed64())
            let from = try userID()
            return .callIncoming(call, from: from, payload: try string())
        case .callRinging:
            return .callRinging(CallID(try fixed64()))
        case .callAccepted:
            let call = CallID(try fixed64())
            return .callAccepted(call, payload: try string())
        case .callAnsweredElsewhere:
            return .callAnsweredElsewhere(CallID(try fixed64()))
        case .callSignal:
            let call = CallID(try fixed64())
            return .callSignal(call, payload: try string())
        case .callEnded:
            let call = CallID(try fixed64())
            return .callEnded(call, try value(WireValue.callEndReason))
        case .subscriptionSnapshot:
            return .subscriptionSnapshot(try contactPresences())
        case .subscriptionEnded:
            return .subscriptionEnded(try userID())
        }
    }

    mutating func chatMessage() throws(ClusterWireError) -> ChatMessage {
        let id = MessageID(try fixed64())
        let sender = try userID()
        let recipient = try userID()
        let clientMessageID = try string()
        let body = try string()
        return ChatMessage(id: id, sender: sender, recipient: recipient, clientMessageID: clientMessageID,
                           body: body, sentAt: try instant())
    }

    mutating func contactPresences() throws(ClusterWireError) -> [ContactPresence] {
        let count = try count(minimumSize: WireSize.userID + WireSize.view)
        var list: [ContactPresence] = []
        list.reserveCapacity(count)
        for _ in 0..<count {
            let user = try userID()
            list.append(ContactPresence(user: user, view: try view()))
        }
        return list
    }
}
