import Presence
import Testing

/// A restart carries what contacts were shown: the draining core's `shownToContacts()` goes
/// into a fresh core with `restoreShown`, and users who come back within the grace show
/// contacts nothing.
struct RestartTests {
    static let grace = Duration.seconds(30)
    static let configuration = PresenceConfiguration(disconnectGrace: grace, debounce: .seconds(1))

    /// The process before the restart: Bob online, Carol busy, Dave hidden, Erin online,
    /// Frank logged out; all contacts of Alice. Returns the core's rows and the drain time.
    static func drainedWorld() throws -> (shown: [ShownPresence], drainedAt: Instant, daveHidAt: Instant, frankLeftAt: Instant) {
        var world = World(configuration)
        let everyone = ["bob@x.io", "carol@x.io", "dave@x.io", "erin@x.io", "frank@x.io"]
        try world.signIn("alice@x.io", 1, contacts: everyone)
        try world.signIn("bob@x.io", 2, contacts: ["alice@x.io"])
        try world.signIn("carol@x.io", 3, chosen: .busy, contacts: ["alice@x.io"])
        let dave = try world.signIn("dave@x.io", 4, contacts: ["alice@x.io"])
        try world.signIn("erin@x.io", 5, contacts: ["alice@x.io"])
        let frank = try world.signIn("frank@x.io", 6, contacts: ["alice@x.io"])
        world.wait(.seconds(5))
        let daveHidAt = world.time
        try world.run(.setStatus(dave, .hidden))
        world.wait(.seconds(2))
        let frankLeftAt = world.time
        try world.run(.signOut(frank))
        world.wait(.seconds(10))
        // The drain: every connection drops (Close 1001); sessions are in their grace.
        for number: UInt64 in 1...5 { try world.run(.connectionLost(world.session(number))) }
        return (world.shownToContacts(), world.time, daveHidAt, frankLeftAt)
    }

    /// A fresh core `restartAfter` the drain, given the drained rows.
    static func restartedWorld(_ drained: (shown: [ShownPresence], drainedAt: Instant, daveHidAt: Instant, frankLeftAt: Instant),
                               restartAfter: Duration = .seconds(2)) throws -> World {
        var world = World(configuration)
        world.time = drained.drainedAt + restartAfter
        world.restartCores(configuration)
        try world.run(.restoreShown(drained.shown, until: drained.drainedAt + grace))
        #expect(world.last.isEmpty)
        return world
    }

    static func view(of subject: String, in snapshot: Snapshot?) -> PresenceView? {
        snapshot?.contacts.first { $0.user == user(subject) }?.view
    }

    @Test func testDrainKeepsThePublicViewWithHiddenAsOffline() throws {
        let drained = try Self.drainedWorld()
        let byUser = Dictionary(uniqueKeysWithValues: drained.shown.map { ($0.user.email, $0.view) })
        #expect(byUser["bob@x.io"] == PresenceView(status: .online))
        #expect(byUser["carol@x.io"] == PresenceView(status: .busy))
        #expect(byUser["dave@x.io"] == PresenceView(status: .offline, lastSeen: drained.daveHidAt))
        #expect(byUser["frank@x.io"] == PresenceView(status: .offline, lastSeen: drained.frankLeftAt))
        #expect(byUser["alice@x.io"] == PresenceView(status: .online))
        #expect(drained.shown.count == 6)
    }

    @Test func testAChangeStillInItsDebounceWindowSettlesAtTheDrain() throws {
        var world = World(Self.configuration)  // debounce 1 s
        try world.signIn("alice@x.io", 1, contacts: ["bob@x.io", "carol@x.io"])
        let bob = try world.signIn("bob@x.io", 2, contacts: ["alice@x.io"])
        let carol = try world.signIn("carol@x.io", 3, contacts: ["alice@x.io"])
        world.wait(.seconds(5))
        let bobLeftAt = world.time
        try world.run(.signOut(bob))
        try world.run(.setStatus(carol, .busy))
        world.wait(.milliseconds(300))  // both still unpublished
        let byUser = Dictionary(uniqueKeysWithValues: world.shownToContacts().map { ($0.user.email, $0.view) })
        #expect(byUser["bob@x.io"] == PresenceView(status: .offline, lastSeen: bobLeftAt))
        #expect(byUser["carol@x.io"] == PresenceView(status: .busy))
    }

    @Test func testUsersBackWithinTheGraceShowContactsNothing() throws {
        let drained = try Self.drainedWorld()
        var world = try Self.restartedWorld(drained)
        let everyone = ["bob@x.io", "carol@x.io", "dave@x.io", "erin@x.io", "frank@x.io"]
        let alice = try world.signIn("alice@x.io", 101, contacts: everyone)
        let snapshot = world.snapshot(of: alice)
        #expect(Self.view(of: "bob@x.io", in: snapshot) == PresenceView(status: .online))
        #expect(Self.view(of: "carol@x.io", in: snapshot) == PresenceView(status: .busy))
        #expect(Self.view(of: "dave@x.io", in: snapshot) == PresenceView(status: .offline, lastSeen: drained.daveHidAt))
        #expect(Self.view(of: "erin@x.io", in: snapshot) == PresenceView(status: .online))
        #expect(Self.view(of: "frank@x.io", in: snapshot) == PresenceView(status: .offline, lastSeen: drained.frankLeftAt))

        world.wait(.seconds(3))
        try world.signIn("bob@x.io", 102, contacts: ["alice@x.io"])
        try world.signIn("carol@x.io", 103, chosen: .busy, contacts: ["alice@x.io"])
        try world.signIn("dave@x.io", 104, chosen: .hidden, contacts: ["alice@x.io"])
        world.wait(.seconds(60))

        // Erin never came back: published offline once, with the grace's end as last-seen,
        // as a grace period ending would. That one event also shows events do reach Alice.
        let untilInstant = drained.drainedAt + Self.grace
        #expect(world.events(to: alice).dropFirst().map { "\($0)" }
                == ["\(Event.presence(user("erin@x.io"), PresenceView(status: .offline, lastSeen: untilInstant)))"])
    }

    @Test func testComingBackWithAnotherStatusIsPublished() throws {
        let drained = try Self.drainedWorld()
        var world = try Self.restartedWorld(drained)
        let alice = try world.signIn("alice@x.io", 101, contacts: ["carol@x.io"])
        try world.signIn("carol@x.io", 103, chosen: .online, contacts: ["alice@x.io"])
        world.wait(.seconds(2))
        #expect(world.presence(of: "carol@x.io", seenBy: alice) == [.online])
    }

    @Test func testBackAndGoneAgainWithinTheWindowIsPublishedOfflineOnce() throws {
        let drained = try Self.drainedWorld()
        var world = try Self.restartedWorld(drained)
        let alice = try world.signIn("alice@x.io", 101, contacts: ["bob@x.io"])
        let bob = try world.signIn("bob@x.io", 102, contacts: ["alice@x.io"])
        world.wait(.seconds(2))
        try world.run(.signOut(bob))
        let leftAt = world.time
        world.wait(.seconds(60))
        #expect(world.events(to: alice).dropFirst().map { "\($0)" }
                == ["\(Event.presence(user("bob@x.io"), PresenceView(status: .offline, lastSeen: leftAt)))"])
    }

    @Test func testRowsOfAHiddenAndALoggedOutUserAreEqualAndRestoreAlike() throws {
        // Same instant: Dave hides, or Dave logs out.
        func drain(hiding: Bool) throws -> [String] {
            var before = World(Self.configuration)
            try before.signIn("alice@x.io", 1, contacts: ["dave@x.io"])
            let dave = try before.signIn("dave@x.io", 2, contacts: ["alice@x.io"])
            before.wait(.seconds(5))
            try before.run(hiding ? .setStatus(dave, .hidden) : .signOut(dave))
            before.wait(.seconds(5))
            let shown = before.shownToContacts()
            var after = World(Self.configuration)
            after.time = before.time + .seconds(1)
            after.restartCores(Self.configuration)
            try after.run(.restoreShown(shown, until: before.time + Self.grace))
            let alice = try after.signIn("alice@x.io", 101, contacts: ["dave@x.io"])
            if hiding { try after.signIn("dave@x.io", 102, chosen: .hidden, contacts: ["alice@x.io"]) }
            after.wait(.seconds(60))
            return shown.map { "\($0)" } + after.events(to: alice).map { "\($0)" }
        }
        let hidden = try drain(hiding: true)
        let loggedOut = try drain(hiding: false)
        #expect(hidden == loggedOut)
        #expect(hidden.contains { $0.contains("dave@x.io") && $0.contains("offline (last seen") })
    }

    @Test func testARevealEndsAtTheRestart() throws {
        var before = World(Self.configuration)
        let alice = try before.signIn("alice@x.io", 1, contacts: ["dave@x.io"])
        let dave = try before.signIn("dave@x.io", 2, chosen: .hidden, contacts: ["alice@x.io"])
        before.wait(.seconds(5))
        try before.run(.send(dave, to: user("alice@x.io"), clientMessageID: "d-1", body: "hi, it's me"))
        try before.run(.messageCommitted(before.lastTicket!, MessageID(1)))
        before.wait(.seconds(2))
        #expect(before.presence(of: "dave@x.io", seenBy: alice) == [.online])  // revealed to Alice
        let shown = before.shownToContacts()
        // Hidden since sign-in: offline, never seen leaving, so no row at all (as for a
        // user who never signed in); the reveal is not kept.
        #expect(!shown.contains { $0.user == user("dave@x.io") })

        var after = World(Self.configuration)
        after.time = before.time + .seconds(1)
        after.restartCores(Self.configuration)
        try after.run(.restoreShown(shown, until: before.time + Self.grace))
        let aliceAgain = try after.signIn("alice@x.io", 101, contacts: ["dave@x.io"])
        #expect(Self.view(of: "dave@x.io", in: after.snapshot(of: aliceAgain))?.status == .offline)
    }

    @Test func testNoOfflineMailWhileARestoredUserIsShownPresent() throws {
        let drained = try Self.drainedWorld()
        var world = try Self.restartedWorld(drained)
        let alice = try world.signIn("alice@x.io", 101, contacts: ["erin@x.io"])
        try world.run(.send(alice, to: user("erin@x.io"), clientMessageID: "a-1", body: "still there?"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        #expect(!world.log.contains { if case .sendOfflineMail = $0 { true } else { false } })
        world.wait(.seconds(60))  // Erin never came back: her offline period starts
        try world.run(.send(alice, to: user("erin@x.io"), clientMessageID: "a-2", body: "later then"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(2)))
        #expect(world.sideEffects(in: world.last).contains {
            if case .sendOfflineMail(let mail) = $0 { mail.recipient == user("erin@x.io") } else { false }
        })
    }

    @Test func testASignedInUserKeepsTheCoresNewerStateOverARow() throws {
        var world = World(Self.configuration)
        let alice = try world.signIn("alice@x.io", 1, contacts: ["bob@x.io"])
        try world.signIn("bob@x.io", 2, chosen: .busy, contacts: ["alice@x.io"])
        world.wait(.seconds(2))
        try world.run(.restoreShown([ShownPresence(user: user("bob@x.io"), view: PresenceView(status: .online))],
                                    until: world.time + Self.grace))
        world.wait(.seconds(60))
        #expect(world.presence(of: "bob@x.io", seenBy: alice) == [.busy])
        #expect(world.shownToContacts().first { $0.user == user("bob@x.io") }?.view == PresenceView(status: .busy))
    }

    @Test func testAStaleRestoreDeadlineStillEndsTheWindow() throws {
        // `until` already passed when the rows are given: they end at the next step.
        let drained = try Self.drainedWorld()
        var world = try Self.restartedWorld(drained, restartAfter: .seconds(31))
        let alice = try world.signIn("alice@x.io", 101, contacts: ["erin@x.io"])
        #expect(Self.view(of: "erin@x.io", in: world.snapshot(of: alice)) == PresenceView(status: .online))
        world.wait(.seconds(2))
        #expect(world.presence(of: "erin@x.io", seenBy: alice) == [.offline])
    }
}
