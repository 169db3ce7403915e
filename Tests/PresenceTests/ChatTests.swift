import Presence
import Testing

struct ChatTests {
    func message(_ id: UInt64, from: String, to: String, _ body: String, at time: Instant) -> ChatMessage {
        ChatMessage(id: MessageID(id), sender: user(from), recipient: user(to), clientMessageID: "k\(id)", body: body, sentAt: time)
    }

    @Test func testMessageIsCommittedBeforeTheAckAndLiveDelivery() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        let aPhone = try world.signIn("a@x.io", 2, device: .mobile, contacts: ["b@x.io"])
        let b1 = try world.signIn("b@x.io", 3, contacts: ["a@x.io"])
        let b2 = try world.signIn("b@x.io", 4, device: .web, contacts: ["a@x.io"])
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-1", body: "hello"))
        let persisted = OutgoingMessage(ticket: world.lastTicket!, sender: user("a@x.io"), recipient: user("b@x.io"),
                                        clientMessageID: "m-1", body: "hello", sentAt: world.time)
        #expect(world.last == [.persistMessage(persisted)])

        try world.run(.messageCommitted(persisted.ticket, MessageID(41)))
        let chat = Event.chat(ChatMessage(id: MessageID(41), sender: user("a@x.io"), recipient: user("b@x.io"),
                                          clientMessageID: "m-1", body: "hello", sentAt: persisted.sentAt))
        #expect(world.events(to: b1, in: world.last) == [chat])
        #expect(world.events(to: b2, in: world.last) == [chat])
        #expect(world.events(to: a, in: world.last) == [.chatAccepted(ChatAck(clientMessageID: "m-1", messageID: MessageID(41), receipt: .delivered))])
        #expect(world.events(to: aPhone, in: world.last) == [chat])  // the sender's other device
        #expect(world.sideEffects(in: world.last) == [])
        // The sender is answered first, before anything is queued for the recipient.
        let ack = ChatAck(clientMessageID: "m-1", messageID: MessageID(41), receipt: .delivered)
        #expect(world.last.first == .answerSend(sender: user("a@x.io"), clientMessageID: "m-1", outcome: .accepted(ack)))
    }

    @Test func testSendIsAnsweredEvenWhenTheSendingSessionIsGone() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-1", body: "hello"))
        let ticket = world.lastTicket!
        try world.run(.signOut(a))
        try world.run(.messageCommitted(ticket, MessageID(3)))
        #expect(world.sendAnswers(in: world.last) == [
            .answerSend(sender: user("a@x.io"), clientMessageID: "m-1",
                        outcome: .accepted(ChatAck(clientMessageID: "m-1", messageID: MessageID(3), receipt: .stored)))])
        try world.run(.send(try world.signIn("a@x.io", 2, contacts: ["b@x.io"]), to: user("b@x.io"), clientMessageID: "m-2", body: "x"))
        try world.run(.messageFailed(world.lastTicket!))
        #expect(world.sendAnswers(in: world.last) == [.answerSend(sender: user("a@x.io"), clientMessageID: "m-2", outcome: .failed)])
    }

    /// The sender's ack is the first effect of a commit, before anything for the recipient,
    /// so the gateway answers the sender with the same timing whether the recipient is
    /// hidden (signed in: their copy is encoded too) or logged out (no copy).
    @Test(arguments: [true, false])
    func testCommitAcksTheSenderBeforeDeliveringToTheRecipient(recipientIsHidden: Bool) throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        let aPhone = try world.signIn("a@x.io", 2, device: .mobile, contacts: ["b@x.io"])
        if recipientIsHidden { try world.signIn("b@x.io", 3, chosen: .hidden, contacts: ["a@x.io"]) }
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-1", body: "hello"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(41)))
        let ackValue = ChatAck(clientMessageID: "m-1", messageID: MessageID(41), receipt: .stored)
        let ack = Event.chatAccepted(ackValue)
        // First the answer to the waiting `send` request(s), then the sequenced ack.
        #expect(world.last.first == .answerSend(sender: user("a@x.io"), clientMessageID: "m-1", outcome: .accepted(ackValue)))
        guard case .deliver(let first, let recipients) = world.last.dropFirst().first else {
            Issue.record("no delivery: \(world.last)")
            return
        }
        #expect(first == ack)
        #expect(recipients.map(\.session) == [a])
        #expect(world.events(to: aPhone, in: world.last).count == 1)
        #expect(world.events(to: world.session(3), in: world.last).count == (recipientIsHidden ? 1 : 0))
    }

    @Test func testRetriedSendIsStoredOnceAndAckedAgain() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-1", body: "hello"))
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-1", body: "hello"))  // before commit
        #expect(world.last.isEmpty)
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-1", body: "hello"))  // after
        #expect(world.events(to: a, in: world.last) == [.chatAccepted(ChatAck(clientMessageID: "m-1", messageID: MessageID(1), receipt: .stored))])
        #expect(world.log.filter { if case .persistMessage = $0 { true } else { false } }.count == 1)
    }

    @Test func testFailedCommitTellsTheSenderAndAllowsARetry() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-1", body: "hello"))
        try world.run(.messageFailed(world.lastTicket!))
        #expect(world.events(to: a, in: world.last) == [.chatFailed(clientMessageID: "m-1")])
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-1", body: "hello"))
        #expect(world.sideEffects(in: world.last).count == 1)
        #expect(world.refusal(.messageFailed(MessageTicket(999))) == .unknownMessageTicket)
    }

    @Test func testOnlyContactsMayChatAndBodiesAreBounded() throws {
        var world = World(PresenceConfiguration(debounce: .zero, maxMessageBytes: 8))
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        #expect(world.refusal(.send(a, to: user("z@x.io"), clientMessageID: "1", body: "hi")) == .notAContact)
        #expect(world.refusal(.send(a, to: user("a@x.io"), clientMessageID: "1", body: "hi")) == .cannotTargetSelf)
        #expect(world.refusal(.send(a, to: user("b@x.io"), clientMessageID: "1", body: "123456789")) == .messageTooLarge)
        #expect(world.last.isEmpty)
    }

    @Test func testOfflineRecipientGetsOneMailPerOfflinePeriodAndTheBacklogAtSignIn() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        let bOld = try world.signIn("b@x.io", 2, contacts: ["a@x.io"], mail: true)
        try world.run(.signOut(bOld))
        var stored: [ChatMessage] = []
        for n in 1...3 {
            try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-\(n)", body: "msg \(n)"))
            try world.run(.messageCommitted(world.lastTicket!, MessageID(UInt64(n))))
            #expect(world.events(to: a, in: world.last).contains(.chatAccepted(ChatAck(clientMessageID: "m-\(n)", messageID: MessageID(UInt64(n)), receipt: .stored))))
            stored.append(message(UInt64(n), from: "a@x.io", to: "b@x.io", "msg \(n)", at: world.time))
        }
        let mails = world.log.filter { if case .sendOfflineMail = $0 { true } else { false } }
        #expect(mails == [.sendOfflineMail(OfflineMail(recipient: user("b@x.io"), firstSender: user("a@x.io"), firstMessage: MessageID(1)))])

        // Next sign-in: the gateway loads what no device acknowledged; it arrives after the
        // snapshot, in order, and is marked delivered once a heartbeat acknowledges it.
        let b = try world.signIn("b@x.io", 3, contacts: ["a@x.io"], mail: true, backlog: stored)
        #expect(world.deliveries(to: b).map(\.sequence) == [1, 2, 3, 4])
        #expect(Array(world.events(to: b).dropFirst()) == stored.map { .chat($0) })
        try world.run(.heartbeat(b, lastSeenSequence: 3))
        #expect(world.last == [.markDelivered(MessageID(1), recipient: user("b@x.io")),
                               .markDelivered(MessageID(2), recipient: user("b@x.io"))])

        // A new offline period earns a new mail.
        try world.run(.signOut(b))
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-4", body: "again"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(4)))
        #expect(world.sideEffects(in: world.last) == [.sendOfflineMail(OfflineMail(recipient: user("b@x.io"), firstSender: user("a@x.io"), firstMessage: MessageID(4)))])
    }

    @Test func testHiddenRecipientGetsMessagesLiveAndNoMail() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, chosen: .hidden, contacts: ["a@x.io"], mail: true)
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-1", body: "hi"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        #expect(world.events(to: b, in: world.last).count == 1)
        #expect(world.sideEffects(in: world.last) == [])
        #expect(world.events(to: a, in: world.last) == [.chatAccepted(ChatAck(clientMessageID: "m-1", messageID: MessageID(1), receipt: .stored))])
    }

    @Test func testMailFlagOffMeansNoMail() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, contacts: ["a@x.io"], mail: false)
        try world.run(.signOut(b))
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-1", body: "hi"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        #expect(world.sideEffects(in: world.last) == [])
    }

    @Test func testUnknownMailFlagLeavesTheDecisionToTheMailWorker() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])  // b never signed in
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-1", body: "hi"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        #expect(world.sideEffects(in: world.last).count == 1)
    }

    @Test func testMessageToADroppedConnectionIsReplayedAndOnlyThenDelivered() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, contacts: ["a@x.io"])
        try world.run(.connectionLost(b))
        try world.run(.send(a, to: user("b@x.io"), clientMessageID: "m-1", body: "hi"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        // Across shards the receipt follows what the sender is shown (b is still shown
        // present during the grace), as `Protocol/presence-rules.md` says.
        let receipt: DeliveryReceipt = world.home(of: "a@x.io") == world.home(of: "b@x.io") ? .stored : .delivered
        #expect(world.events(to: a, in: world.last) == [.chatAccepted(ChatAck(clientMessageID: "m-1", messageID: MessageID(1), receipt: receipt))])
        #expect(world.sideEffects(in: world.last) == [])  // not logged out: no mail
        try world.run(.resume(b, lastSeenSequence: 1))  // it had the snapshot only
        #expect(world.events(to: b, in: world.last).count == 1)
        try world.run(.heartbeat(b, lastSeenSequence: 2))
        #expect(world.last == [.markDelivered(MessageID(1), recipient: user("b@x.io"))])
    }
}
