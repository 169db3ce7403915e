import Presence
import Testing

struct ContactTests {
    @Test func testRequestThenAcceptStartsPresenceBothWays() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1)
        let b = try world.signIn("b@x.io", 2)
        try world.run(.requestContact(a, user("B@X.io ")))
        #expect(world.sideEffects(in: world.last) == [.persistContact(ContactRecord(user: user("a@x.io"), other: user("b@x.io"), state: .requestedByMe))])
        #expect(world.events(to: b, in: world.last) == [.contactRequestReceived(from: user("a@x.io"))])
        #expect(world.events(to: a, in: world.last) == [.contactRequestSent(to: user("b@x.io"))])
        try world.run(.setStatus(b, .busy))
        #expect(world.presence(of: "b@x.io", seenBy: a) == [])  // pending is not accepted
        try world.run(.acceptContact(b, user("a@x.io")))
        #expect(world.sideEffects(in: world.last) == [.persistContact(ContactRecord(user: user("b@x.io"), other: user("a@x.io"), state: .accepted))])
        #expect(world.events(to: a, in: world.last) == [.contactAdded(user("b@x.io"), PresenceView(status: .busy))])
        #expect(world.events(to: b, in: world.last) == [.contactAdded(user("a@x.io"), PresenceView(status: .online))])
        try world.run(.setStatus(b, .online))
        #expect(world.presence(of: "b@x.io", seenBy: a) == [.online])
    }

    @Test func testDeclineIsPersistedAndNotShownToTheRequester() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1)
        let b = try world.signIn("b@x.io", 2)
        try world.run(.requestContact(a, user("b@x.io")))
        let before = world.events(to: a).count
        try world.run(.declineContact(b, user("a@x.io")))
        #expect(world.sideEffects(in: world.last) == [.persistContact(ContactRecord(user: user("b@x.io"), other: user("a@x.io"), state: nil))])
        #expect(world.events(to: b, in: world.last) == [.contactRemoved(user("a@x.io"))])
        #expect(world.events(to: a).count == before)
        #expect(world.refusal(.acceptContact(b, user("a@x.io"))) == .noPendingRequest)
    }

    @Test func testEitherSideCanRemoveAContactAndPresenceStops() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, contacts: ["a@x.io"])
        try world.run(.removeContact(b, user("a@x.io")))
        #expect(world.events(to: a, in: world.last) == [.contactRemoved(user("b@x.io"))])
        #expect(world.events(to: b, in: world.last) == [.contactRemoved(user("a@x.io"))])
        try world.run(.setStatus(b, .busy))
        #expect(world.events(to: a, in: world.last) == [])
        #expect(world.refusal(.send(a, to: user("b@x.io"), clientMessageID: "1", body: "?")) == .notAContact)
        #expect(world.refusal(.invite(a, callee: user("b@x.io"), call: CallID(1), payload: "")) == .notAContact)
    }

    @Test func testMutualRequestsBecomeAContact() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1)
        let b = try world.signIn("b@x.io", 2)
        try world.run(.requestContact(a, user("b@x.io")))
        try world.run(.requestContact(b, user("a@x.io")))
        #expect(world.events(to: a, in: world.last) == [.contactAdded(user("b@x.io"), PresenceView(status: .online))])
    }

    @Test func testSnapshotListsContactsAndPendingRequests() throws {
        var world = World()
        try world.signIn("b@x.io", 2, contacts: ["a@x.io"])
        let c = try world.signIn("c@x.io", 3)
        try world.run(.requestContact(c, user("a@x.io")))
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        #expect(world.snapshot(of: a) == Snapshot(
            chosenStatus: .online, contacts: [ContactPresence(user: user("b@x.io"), view: PresenceView(status: .online))],
            incomingRequests: [user("c@x.io")], outgoingRequests: []))
    }

    @Test func testStaleStoredListCannotResurrectARemovedContact() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        try world.run(.removeContact(a, user("b@x.io")))
        let b = try world.signIn("b@x.io", 2, contacts: ["a@x.io"])  // storage not caught up yet
        #expect(world.snapshot(of: b)?.contacts == [])
    }

    /// What a requester sees must not depend on the target's presence.
    static func requesterSees(targetSignedIn: Bool, chosen: ChosenStatus) throws -> [String] {
        var world = World()
        if targetSignedIn { try world.signIn("t@x.io", 9, chosen: chosen) }
        let r = try world.signIn("r@x.io", 1)
        try world.run(.requestContact(r, user("t@x.io")))
        try world.run(.requestContact(r, user("t@x.io")))
        _ = world.refusal(.send(r, to: user("t@x.io"), clientMessageID: "1", body: "hi"))
        _ = world.refusal(.invite(r, callee: user("t@x.io"), call: CallID(1), payload: ""))
        _ = world.refusal(.removeContact(r, user("t@x.io")))
        world.wait(.seconds(60))
        var seen = world.deliveries(to: r).map { "#\($0.sequence) \($0.event)" }
        seen.append("\(String(describing: world.core.view(of: user("t@x.io"), for: user("r@x.io"))))")
        return seen
    }

    @Test(arguments: [(true, ChosenStatus.online), (true, .hidden), (true, .busy), (false, .online)])
    func testNonContactLearnsNothingAboutPresenceWhateverItTries(_ signedIn: Bool, _ chosen: ChosenStatus) throws {
        #expect(try Self.requesterSees(targetSignedIn: signedIn, chosen: chosen)
                == Self.requesterSees(targetSignedIn: false, chosen: .online))
    }

    @Test func testRequestingYourselfOrAnExistingContactIsRefused() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        #expect(world.refusal(.requestContact(a, user("a@x.io"))) == .cannotTargetSelf)
        #expect(world.refusal(.requestContact(a, user("b@x.io"))) == .alreadyContacts)
    }
}
