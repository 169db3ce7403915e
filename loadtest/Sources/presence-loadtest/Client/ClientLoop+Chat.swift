/// Chats between pair partners (users 2k and 2k+1): send → reply after the commit, and
/// send → the `chat` event at the partner.
extension ClientLoop {
    /// The next user in turn sends one message to its partner, unless all `chatRing` of
    /// its recent sends are still unanswered.
    func issueScheduledSend() {
        guard let session = plan.session else { return }
        let u = cursor % plan.count
        cursor += 1
        let number = users[u].chatSent
        let slot = u * Self.chatRing + Int(number % UInt64(Self.chatRing))
        guard users[u].stage == .ready, chatFlags[slot] & 3 == 3 else {
            if now >= measureStart { window.skipped += 1 }
            return
        }
        let isMeasured = now >= measureStart && now < sendEnd
        chatFlags[slot] = isMeasured ? 4 : 0
        chatSentAt[slot] = now
        users[u].chatSent = number + 1
        outstandingSession += 2
        if isMeasured { window.messages += 1 }
        ClientOps.send(number: number, to: session.users.emails[u ^ 1], run: session.runNonce, body: session.chatBody, into: &opScratch)
        opScratch.withUnsafeBytes { queueFrame(Int32(u), opcode: .text, payload: $0, mayCompress: false) }
    }

    /// `{"type":"ok","id":"m<n>","clientMessageId":…,"messageId":…,"receipt":…}`: the
    /// server committed send number n (the reply waits for the commit).
    func receiveSendReply(_ i: Int32, _ text: ServerText, idStart: Int) {
        let u = Int(i)
        guard let (number, end) = text.unsignedInteger(at: idStart + 1), let slot = chatSlot(u, number), chatFlags[slot] & 1 == 0 else {
            result.session.unrecognisedMessages += 1
            result.note("user \(u): a send reply for no send in flight: \(text.text)")
            return
        }
        chatFlags[slot] |= 1
        outstandingSession -= 1
        guard chatFlags[slot] & 4 != 0 else { return }
        window.replies += 1
        window.latency.record(now - chatSentAt[slot])
        if let at = text.valueStart(of: ServerText.receiptKey, from: end), text.bytes[at] == UInt8(ascii: "s") { window.storedReceipts += 1 }
    }

    /// `{"seq":N,"type":"chat","messageId":…,"from":"userK@…","to":…,"clientMessageId":"<run>-<n>",…}`.
    func receiveChat(_ i: Int32, _ text: ServerText, typeStart: Int) {
        guard let session = plan.session, let fromAt = text.valueStart(of: ServerText.fromKey, from: typeStart),
              let from = text.userIndex(at: fromAt),
              let idAt = text.valueStart(of: ServerText.clientMessageIDKey, from: fromAt),
              let (run, dash) = text.unsignedInteger(at: idAt), dash < text.bytes.count, text.bytes[dash] == UInt8(ascii: "-"),
              let (number, _) = text.unsignedInteger(at: dash + 1) else {
            result.session.unrecognisedMessages += 1
            result.note("user \(i): unreadable chat event \(text.text)")
            return
        }
        guard run == session.runNonce else {
            // A message of an earlier run that was never acknowledged: the sign-in backlog.
            result.session.backlogChats += 1
            return
        }
        guard from == Int(i) ^ 1, from < plan.count, let slot = chatSlot(from, number), chatFlags[slot] & 2 == 0 else {
            result.session.strangerEvents += 1
            result.note("user \(i): a chat from \(from) that is not its partner's send in flight: \(text.text)")
            return
        }
        chatFlags[slot] |= 2
        outstandingSession -= 1
        guard chatFlags[slot] & 4 != 0 else { return }
        window.delivered += 1
        window.deliveryLatency.record(now - chatSentAt[slot])
    }

    /// The ring slot of send `number` of user `u`, if that send is still in the ring.
    func chatSlot(_ u: Int, _ number: UInt64) -> Int? {
        let sent = users[u].chatSent
        guard number < sent, number + UInt64(Self.chatRing) >= sent else { return nil }
        return u * Self.chatRing + Int(number % UInt64(Self.chatRing))
    }
}
