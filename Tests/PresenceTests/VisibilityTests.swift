import Presence
import Testing

/// Hidden is offline to everyone else: every value a contact can observe of a hidden user
/// equals what it observes of a logged-out user, until the hidden user acts toward it.
struct VisibilityTests {
    enum Subject { case hidden, loggedOut }

    /// Everything the contact `c` is sent, as comparable values. Sessions are named by
    /// their position: the IDs the core issues depend on how many sessions exist.
    static func observedByContact(_ world: World, _ sessions: [SessionID]) -> [String] {
        sessions.enumerated().flatMap { i, s in world.deliveries(to: s).map { "c\(i) #\($0.sequence) \($0.event)" } }
    }

    /// A contact's whole repertoire against `b`: snapshot, chat, call, re-sign-in, idle time.
    static func contactTriesEverything(_ b: Subject) throws -> [String] {
        var world = World(PresenceConfiguration(debounce: .seconds(1)))
        var bSessions: [SessionID] = []
        if b == .hidden {
            bSessions.append(try world.signIn("b@x.io", 10, chosen: .hidden, contacts: ["c@x.io"]))
            bSessions.append(try world.signIn("b@x.io", 11, device: .mobile, contacts: ["c@x.io"]))
        }
        let c = try world.signIn("c@x.io", 1, contacts: ["b@x.io"])
        world.wait(.seconds(5))
        try world.run(.send(c, to: user("b@x.io"), clientMessageID: "c-1", body: "are you there?"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(100)))
        try world.run(.invite(c, callee: user("b@x.io"), call: CallID(7), payload: "sdp-offer"))
        for s in bSessions { try world.run(.ringing(s, CallID(7))) }
        if let phone = bSessions.last { try world.run(.decline(phone, CallID(7))) }  // silences, reveals nothing
        world.wait(.seconds(45))
        try world.run(.send(c, to: user("b@x.io"), clientMessageID: "c-1", body: "are you there?"))  // retry
        #expect(world.refusal(.requestContact(c, user("b@x.io"))) == .alreadyContacts)
        try world.run(.signOut(c))
        let again = try world.signIn("c@x.io", 2, device: .mobile, contacts: ["b@x.io"])
        for s in bSessions { try world.run(.activity(s)) }
        world.wait(.seconds(3_600))
        try world.run(.heartbeat(again, lastSeenSequence: 1))
        return observedByContact(world, [c, again])
    }

    @Test func testHiddenUserLooksExactlyLikeLoggedOutUser() throws {
        let hidden = try Self.contactTriesEverything(.hidden)
        let loggedOut = try Self.contactTriesEverything(.loggedOut)
        #expect(hidden == loggedOut)
        #expect(hidden.contains { $0.contains("receipt: Presence.DeliveryReceipt.stored") })
        #expect(hidden.contains { $0.contains("callEnded(call 7, Presence.CallEndReason.noAnswer)") })
    }

    /// `b` is online, then at the same instant either hides or logs out.
    static func contactWatchesGoingAway(_ b: Subject) throws -> [String] {
        var world = World(PresenceConfiguration(debounce: .seconds(1)))
        let c = try world.signIn("c@x.io", 1, contacts: ["b@x.io"])
        let bDesktop = try world.signIn("b@x.io", 10, contacts: ["c@x.io"])
        world.wait(.seconds(30))
        if b == .hidden {
            try world.run(.setStatus(bDesktop, .hidden))
        } else {
            try world.run(.signOut(bDesktop))
        }
        world.wait(.seconds(30))
        let later = try world.signIn("c@x.io", 2, contacts: ["b@x.io"])
        _ = later
        world.wait(.seconds(400))  // a hidden b goes idle meanwhile
        return observedByContact(world, [c, world.session(2)])
    }

    @Test func testHidingLooksExactlyLikeLoggingOutIncludingLastSeen() throws {
        let hidden = try Self.contactWatchesGoingAway(.hidden)
        #expect(hidden == (try Self.contactWatchesGoingAway(.loggedOut)))
        #expect(hidden.contains { $0.contains("offline (last seen @") })
    }

    @Test func testHiddenUserWhoRepliesBecomesVisibleToThatContactOnly() throws {
        var world = World()
        let c = try world.signIn("c@x.io", 1, contacts: ["b@x.io"])
        let d = try world.signIn("d@x.io", 2, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 3, chosen: .hidden, contacts: ["c@x.io", "d@x.io"])
        try world.run(.send(b, to: user("c@x.io"), clientMessageID: "b-1", body: "yes, here"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        #expect(world.presence(of: "b@x.io", seenBy: c) == [.online])
        #expect(world.presence(of: "b@x.io", seenBy: d) == [])
        #expect(world.view(of: user("b@x.io"), for: user("d@x.io")) == PresenceView.offline)
        // c's chats now read as delivered; d's still do not.
        try world.run(.send(c, to: user("b@x.io"), clientMessageID: "c-1", body: "great"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(2)))
        try world.run(.send(d, to: user("b@x.io"), clientMessageID: "d-1", body: "hello?"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(3)))
        #expect(world.events(to: c).contains(.chatAccepted(ChatAck(clientMessageID: "c-1", messageID: MessageID(2), receipt: .delivered))))
        #expect(world.events(to: d).contains(.chatAccepted(ChatAck(clientMessageID: "d-1", messageID: MessageID(3), receipt: .stored))))
    }

    @Test func testRevealEndsAfterTheRevealDurationWithTheHiddenLastSeen() throws {
        var world = World()
        let c = try world.signIn("c@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 3, chosen: .hidden, contacts: ["c@x.io"])
        try world.run(.send(b, to: user("c@x.io"), clientMessageID: "b-1", body: "psst"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        world.wait(.seconds(599))  // b's true status goes idle meanwhile, and c may see that
        #expect(world.presence(of: "b@x.io", seenBy: c) == [.online, .idle])
        world.wait(.seconds(1))
        #expect(world.presence(of: "b@x.io", seenBy: c) == [.online, .idle, .offline])
        // Never seen online publicly, so no last-seen: the same as a user who never signed in.
        #expect(world.events(to: c).last == .presence(user("b@x.io"), PresenceView.offline))
    }

    @Test func testEachActExtendsTheReveal() throws {
        var world = World()
        let c = try world.signIn("c@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 3, chosen: .hidden, contacts: ["c@x.io"])
        for n in 1...3 {
            try world.run(.send(b, to: user("c@x.io"), clientMessageID: "b-\(n)", body: "…"))
            try world.run(.messageCommitted(world.lastTicket!, MessageID(UInt64(n))))
            world.wait(.seconds(500))
        }
        // Each chat is activity too, so b's true status swings between online and idle.
        let revealed: [PresenceStatus] = [.online, .idle, .online, .idle, .online, .idle]
        #expect(world.presence(of: "b@x.io", seenBy: c) == revealed)
        world.wait(.seconds(99))
        #expect(world.presence(of: "b@x.io", seenBy: c) == revealed)
        world.wait(.seconds(1))  // 600 s after the last act, not the first
        #expect(world.presence(of: "b@x.io", seenBy: c) == revealed + [.offline])
    }

    @Test func testChoosingAStatusEndsReveals() throws {
        var world = World()
        let c = try world.signIn("c@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 3, chosen: .hidden, contacts: ["c@x.io"])
        try world.run(.send(b, to: user("c@x.io"), clientMessageID: "b-1", body: "psst"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        try world.run(.setStatus(b, .busy))
        try world.run(.setStatus(b, .hidden))  // hiding again starts from scratch
        #expect(world.presence(of: "b@x.io", seenBy: c) == [.online, .busy, .offline])
    }

    @Test func testHiddenUserAnsweringACallIsBusyToTheCallerAndOfflineToOthers() throws {
        var world = World()
        let c = try world.signIn("c@x.io", 1, contacts: ["b@x.io"])
        let d = try world.signIn("d@x.io", 2, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 3, chosen: .hidden, contacts: ["c@x.io", "d@x.io"])
        try world.run(.invite(c, callee: user("b@x.io"), call: CallID(1), payload: "offer"))
        try world.run(.accept(b, CallID(1), payload: "answer"))
        #expect(world.presence(of: "b@x.io", seenBy: c) == [.busy])
        world.wait(.seconds(3_600))  // the call holds the reveal open past its window
        try world.run(.hangUp(c, CallID(1)))
        #expect(world.presence(of: "b@x.io", seenBy: c) == [.busy, .idle])
        world.wait(.seconds(600))
        #expect(world.presence(of: "b@x.io", seenBy: c) == [.busy, .idle, .offline])
        #expect(world.presence(of: "b@x.io", seenBy: d) == [])
    }

    @Test func testNonContactSeesNothing() throws {
        var world = World()
        try world.signIn("b@x.io", 3)
        let stranger = try world.signIn("s@x.io", 4)
        #expect(world.view(of: user("b@x.io"), for: user("s@x.io")) == nil)
        #expect(world.presence(of: "b@x.io", seenBy: stranger) == [])
    }
}
