import Presence
import Testing

struct IdleTests {
    @Test func testUserGoesIdleAfterFiveMinutesWithoutActivity() throws {
        var world = World()
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        world.wait(.seconds(299))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online])
        world.wait(.seconds(1))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online, .idle])
    }

    @Test func testHeartbeatsAreNotActivity() throws {
        var world = World()
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        let a = try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        for _ in 0..<10 {
            world.wait(.seconds(31))
            try world.run(.heartbeat(a, lastSeenSequence: 0))
        }
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online, .idle])
    }

    @Test func testActivityAndUserOpsKeepTheSessionActive() throws {
        var world = World()
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        let a = try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        world.wait(.seconds(240))
        try world.run(.activity(a))
        world.wait(.seconds(240))
        try world.run(.setStatus(a, .online))  // a user op, even one that changes nothing
        world.wait(.seconds(240))
        try world.run(.send(a, to: user("c@x.io"), clientMessageID: "m1", body: "hi"))
        world.wait(.seconds(299))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online])
        world.wait(.seconds(1))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online, .idle])
    }

    @Test func testActivityAfterIdleShowsOnlineAgain() throws {
        var world = World()
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        let a = try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        world.wait(.seconds(600))
        try world.run(.activity(a))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online, .idle, .online])
    }

    @Test func testUserIsIdleOnlyWhenEverySessionIsIdle() throws {
        var world = World()
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        world.wait(.seconds(200))
        let phone = try world.signIn("a@x.io", 3, device: .mobile, contacts: ["c@x.io"])
        world.wait(.seconds(100))  // desktop idle, phone active
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online, .mobile])
        try world.run(.activity(phone))
        world.wait(.seconds(300))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online, .mobile, .idle])
    }

    @Test func testTenHoursOfIdleTimeProduceOneIdleEventAndFewWakeUps() throws {
        var world = World()
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        let a = try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        var wakeUps = 0
        let end = world.time + .seconds(36_000)
        while let deadline = world.nextDeadline, deadline <= end {
            world.time = deadline
            world.wait(.zero)
            wakeUps += 1
            try world.run(.heartbeat(a, lastSeenSequence: 0))
        }
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online, .idle])
        #expect(wakeUps <= 4)
    }

    @Test func testIdleTimeIsConfigurable() throws {
        var world = World(PresenceConfiguration(idleAfter: .seconds(60), debounce: .zero))
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        world.wait(.seconds(60))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.online, .idle])
    }
}
