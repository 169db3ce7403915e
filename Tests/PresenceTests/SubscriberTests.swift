import Presence
import Testing

struct SubscriberTests {
    @Test func testSubscriberGetsASnapshotThenDeltas() throws {
        var world = World()
        let doctor = try world.signIn("dr@clinic.io", 1)
        try world.run(.signInSubscriber(world.session(100), allowed: [user("dr@clinic.io"), user("nurse@clinic.io")]))
        try world.run(.subscribe(world.session(100), [user("dr@clinic.io"), user("nurse@clinic.io")]))
        #expect(world.events(to: world.session(100)) == [.subscriptionSnapshot([
            ContactPresence(user: user("dr@clinic.io"), view: PresenceView(status: .online)),
            ContactPresence(user: user("nurse@clinic.io"), view: .offline)])])
        try world.run(.setStatus(doctor, .busy))
        try world.signIn("nurse@clinic.io", 2, device: .mobile)
        #expect(world.presence(of: "dr@clinic.io", seenBy: world.session(100)) == [.busy])
        #expect(world.presence(of: "nurse@clinic.io", seenBy: world.session(100)) == [.mobile])
        try world.run(.unsubscribe(world.session(100), [user("dr@clinic.io")]))
        try world.run(.setStatus(doctor, .online))
        #expect(world.presence(of: "dr@clinic.io", seenBy: world.session(100)) == [.busy])
    }

    @Test func testSubscriberMayWatchOnlyItsAllowedUsers() throws {
        var world = World()
        try world.run(.signInSubscriber(world.session(100), allowed: [user("dr@clinic.io")]))
        #expect(world.refusal(.subscribe(world.session(100), [user("dr@clinic.io"), user("other@x.io")])) == .notPermitted)
        #expect(world.events(to: world.session(100)).isEmpty)
    }

    @Test func testSubscriberNeverCountsAsPresenceAndCannotActAsAUser() throws {
        var world = World()
        let c = try world.signIn("c@x.io", 1, contacts: ["dr@clinic.io"])
        try world.run(.signInSubscriber(world.session(100), allowed: [user("dr@clinic.io")]))
        #expect(world.presence(of: "dr@clinic.io", seenBy: c) == [])
        #expect(world.refusal(.setStatus(world.session(100), .online)) == .wrongSessionKind)
        #expect(world.refusal(.send(world.session(100), to: user("dr@clinic.io"), clientMessageID: "1", body: "")) == .wrongSessionKind)
        #expect(world.refusal(.subscribe(c, [user("dr@clinic.io")])) == .wrongSessionKind)
        try world.run(.signOut(world.session(100)))
        #expect(world.last == [.close(world.session(100), reason: .signedOut)])
    }

    @Test func testHiddenUserIsOfflineToSubscribersEvenAfterActing() throws {
        var world = World()
        let c = try world.signIn("c@x.io", 1, contacts: ["dr@clinic.io"])
        try world.run(.signInSubscriber(world.session(100), allowed: [user("dr@clinic.io")]))
        try world.run(.subscribe(world.session(100), [user("dr@clinic.io")]))
        let dr = try world.signIn("dr@clinic.io", 2, chosen: .hidden, contacts: ["c@x.io"])
        try world.run(.send(dr, to: user("c@x.io"), clientMessageID: "1", body: "on my way"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        #expect(world.presence(of: "dr@clinic.io", seenBy: c) == [.online])
        #expect(world.presence(of: "dr@clinic.io", seenBy: world.session(100)) == [])
    }

    @Test func testSubscriberConnectionCanResume() throws {
        var world = World()
        try world.run(.signInSubscriber(world.session(100), allowed: [user("dr@clinic.io")]))
        try world.run(.subscribe(world.session(100), [user("dr@clinic.io")]))
        try world.run(.connectionLost(world.session(100)))
        try world.signIn("dr@clinic.io", 2)
        try world.run(.resume(world.session(100), lastSeenSequence: 1))
        #expect(world.deliveries(to: world.session(100), in: world.last).map(\.sequence) == [2])
    }
}
