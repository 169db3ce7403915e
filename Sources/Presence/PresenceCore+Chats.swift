// Chats: dedupe, commit before ack, live delivery, and the offline e-mail.
//
// 1. `send` checks the contact, dedupes by (sender, client message ID) and emits
//    `persistMessage`. Nothing is delivered yet.
// 2. `messageCommitted` acks the sender first (`answerSend`, then `chatAccepted`), then
//    delivers to every session of the recipient (hidden or not) and to the sender's
//    other sessions. Acking first keeps the sender's timing the same whether the
//    recipient is signed in, hidden or logged out. A message committed after the two
//    stopped being contacts is still delivered (it is stored), but it is no longer an
//    act that reveals a hidden sender.
// 3. A recipient with no session gets it in the backlog of their next sign-in; the first
//    such message of an offline period also queues the one notification e-mail.

extension PresenceCore {
    mutating func send(_ session: SessionID, to recipientID: UserID, clientMessageID: String, body: String,
                       into effects: inout [Effect]) throws(PresenceError) {
        let (slot, sender) = try userSession(session)
        guard recipientID != users[sender.i].id else { throw .cannotTargetSelf }
        guard let recipient = ref(of: recipientID), relation(sender, recipient) == .accepted else { throw .notAContact }
        guard body.utf8.count <= configuration.maxMessageBytes else { throw .messageTooLarge }
        noteActivity(slot, into: &effects)

        switch users[sender.i].sendWindow?[clientMessageID] {
        case .pending(let ticket)?:
            pendingMessages[ticket]?.senderSession = session  // ack the retrying session
            return
        case .committed(let ack)?:
            // The same ack again.
            effects.append(.answerSend(sender: users[sender.i].id, clientMessageID: clientMessageID, outcome: .accepted(ack)))
            send(.chatAccepted(ack), toSlot: slot, into: &effects)
            return
        case nil:
            break
        }
        let ticket = MessageTicket(UInt64(placement.index) << 56 | nextTicket)
        nextTicket += 1
        pendingMessages[ticket] = PendingMessage(sender: sender, senderSession: session, recipient: recipient,
                                                 clientMessageID: clientMessageID, body: body, sentAt: now)
        if users[sender.i].sendWindow == nil {
            users[sender.i].sendWindow = SendWindow(capacity: configuration.dedupeWindow)
        }
        users[sender.i].sendWindow!.record(clientMessageID, .pending(ticket))
        effects.append(.persistMessage(OutgoingMessage(
            ticket: ticket, sender: users[sender.i].id, recipient: recipientID,
            clientMessageID: clientMessageID, body: body, sentAt: now)))
    }

    mutating func messageCommitted(_ ticket: MessageTicket, _ id: MessageID, into effects: inout [Effect]) throws(PresenceError) {
        guard let pending = pendingMessages.removeValue(forKey: ticket) else { throw .unknownMessageTicket }
        let sender = pending.sender, recipient = pending.recipient
        let message = ChatMessage(id: id, sender: users[sender.i].id, recipient: users[recipient.i].id,
                                  clientMessageID: pending.clientMessageID, body: pending.body, sentAt: pending.sentAt)

        // The receipt goes through the visibility function: a hidden recipient reads
        // `stored`, as a logged-out one does, although their devices get the message now.
        // A recipient homed on another shard: their sessions are there, so the receipt
        // follows what the sender is shown of them (see `view(of:for:)`).
        let hasConnectedSession = !isLocal(recipient) || users[recipient.i].sessions.contains { sessions[$0]!.isConnected }
        let receipt: DeliveryReceipt = hasConnectedSession && looksPresent(recipient, to: sender) ? .delivered : .stored
        let ack = ChatAck(clientMessageID: pending.clientMessageID, messageID: id, receipt: receipt)
        users[sender.i].sendWindow?.record(pending.clientMessageID, .committed(ack))

        // The sender's answer comes first, so the gateway answers the `send` before it
        // encodes anything for the recipient: the sender's timing is then the same whether
        // the recipient is hidden (signed in, gets a copy) or logged out (gets none).
        effects.append(.answerSend(sender: users[sender.i].id, clientMessageID: pending.clientMessageID, outcome: .accepted(ack)))
        let senderSlot = existingSlot(of: pending.senderSession)
        if let senderSlot { send(.chatAccepted(ack), toSlot: senderSlot, into: &effects) }
        if isLocal(recipient) {
            deliverChat(message, to: recipient, into: &effects)
        } else {
            forward(.chat(message), toHomeOf: recipient, into: &effects)
        }
        send(.chat(message), toSessionsOf: sender, except: senderSlot, into: &effects)
        noteAct(by: sender, toward: recipient, into: &effects)
    }

    /// On the recipient's home: every session gets it, hidden or not; with none, it counts
    /// toward the offline period's e-mail.
    mutating func deliverChat(_ message: ChatMessage, to recipient: UserRef, into effects: inout [Effect]) {
        send(.chat(message), toSessionsOf: recipient, into: &effects)
        if users[recipient.i].sessions.isEmpty {
            queueOfflineMail(to: recipient, for: message, into: &effects)
        }
    }

    mutating func messageFailed(_ ticket: MessageTicket, into effects: inout [Effect]) throws(PresenceError) {
        guard let pending = pendingMessages.removeValue(forKey: ticket) else { throw .unknownMessageTicket }
        users[pending.sender.i].sendWindow?.forget(pending.clientMessageID)
        effects.append(.answerSend(sender: users[pending.sender.i].id, clientMessageID: pending.clientMessageID, outcome: .failed))
        send(.chatFailed(clientMessageID: pending.clientMessageID), toSession: pending.senderSession, into: &effects)
    }

    /// One e-mail per offline period, however many messages arrive: the period opens when
    /// the last session ends and closes at the next sign-in. A hidden user has sessions,
    /// so is never here.
    mutating func queueOfflineMail(to recipient: UserRef, for message: ChatMessage, into effects: inout [Effect]) {
        guard !users[recipient.i].isOfflineMailSent, users[recipient.i].offlineMail != .disabled else { return }
        users[recipient.i].isOfflineMailSent = true
        effects.append(.sendOfflineMail(OfflineMail(recipient: message.recipient, firstSender: message.sender,
                                                    firstMessage: message.id)))
    }
}
