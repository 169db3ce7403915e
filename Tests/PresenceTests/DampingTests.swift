import Presence
import Testing

struct DampingTests {
    @Test func testConnectionThatResumesWithinGraceShowsNothingToContacts() throws {
        var world = World()
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        let a = try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        try world.run(.connectionLost(a))
        world.wait(.seconds(29))
        try world.run(.resume(a, lastSeenSequence: 1))
        world.wait(.seconds(60))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online])
    }

    @Test func testGraceExpiryShowsOfflineOnceAndClosesTheSession() throws {
        var world = World()
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        let a = try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        try world.run(.connectionLost(a))
        #expect(world.nextDeadline == world.time + .seconds(30))
        world.wait(.seconds(30))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online, .offline])
        #expect(world.sideEffects(in: world.last) == [.close(a, reason: .sessionExpired)])
        #expect(world.refusal(.resume(a, lastSeenSequence: 1)) == .unknownSession)
    }

    @Test func testRapidFlipsReachContactsOnceAsTheSettledState() throws {
        var world = World(PresenceConfiguration(debounce: .seconds(2)))
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        let a = try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        world.wait(.seconds(2))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online])
        try world.run(.setStatus(a, .busy))
        world.wait(.milliseconds(300))
        try world.run(.setStatus(a, .online))
        world.wait(.milliseconds(300))
        try world.run(.setStatus(a, .hidden))
        world.wait(.milliseconds(300))
        try world.run(.setStatus(a, .busy))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online])
        world.wait(.seconds(2))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online, .busy])
    }

    @Test func testFlipAndBackWithinTheWindowSendsNothing() throws {
        var world = World(PresenceConfiguration(debounce: .seconds(1)))
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        let a = try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        world.wait(.seconds(5))
        try world.run(.signOut(a))
        try world.signIn("a@x.io", 3, device: .desktop, contacts: ["c@x.io"])  // app restart
        world.wait(.seconds(5))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online])
    }

    @Test func testDebounceWindowIsNotPushedBackByFurtherFlips() throws {
        var world = World(PresenceConfiguration(debounce: .seconds(1)))
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        let a = try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        world.wait(.seconds(1))
        try world.run(.setStatus(a, .busy))
        world.wait(.milliseconds(600))
        try world.run(.setStatus(a, .online))
        world.wait(.milliseconds(300))
        try world.run(.setStatus(a, .busy))
        world.wait(.milliseconds(100))  // one second after the first flip
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online, .busy])
    }

    @Test func testNextDeadlineIsTheOneTimerTheGatewayNeeds() throws {
        var world = World(PresenceConfiguration(debounce: .seconds(1)))
        #expect(world.nextDeadline == nil)
        let a = try world.signIn("a@x.io", 1)
        #expect(world.nextDeadline == world.time + .seconds(1))  // the debounced publish
        world.wait(.seconds(1))
        #expect(world.nextDeadline == world.time + .seconds(299))  // the idle check
        try world.run(.signOut(a))
        #expect(world.nextDeadline == world.time + .seconds(1))
        world.wait(.seconds(1))
        #expect(world.nextDeadline == world.time + .seconds(59))  // forgetting a user with no contacts
        world.wait(.seconds(59))
        #expect(world.nextDeadline == nil)
    }

    @Test func testLateTickProducesTheSameEffectsAsPunctualTicks() throws {
        func run(late: Bool) throws -> [Effect] {
            var world = World(PresenceConfiguration(debounce: .seconds(1)))
            try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
            let a = try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
            try world.run(.connectionLost(a))
            if late {
                world.wait(.seconds(3_600))
            } else {
                while let next = world.nextDeadline, next <= world.time + .seconds(3_600) {
                    world.wait(next - world.time)
                }
            }
            return world.log
        }
        #expect(try run(late: true) == run(late: false))
    }
}
