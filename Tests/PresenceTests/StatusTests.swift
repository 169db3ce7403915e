import Presence
import Testing

struct StatusTests {
    @Test func testChosenStatusIsPersistedAndSharedByAllDevices() throws {
        var world = World()
        let desktop = try world.signIn("a@x.io", 1)
        let phone = try world.signIn("a@x.io", 2, device: .mobile)
        try world.run(.setStatus(phone, .busy))
        #expect(world.sideEffects(in: world.last) == [.persistChosenStatus(user("a@x.io"), .busy)])
        #expect(world.events(to: desktop, in: world.last) == [.ownStatus(.busy)])
        #expect(world.events(to: phone, in: world.last) == [.ownStatus(.busy)])
    }

    @Test func testSignInStartsFromThePersistedChoice() throws {
        var world = World()
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        let a = try world.signIn("a@x.io", 2, chosen: .busy, contacts: ["c@x.io"])
        #expect(world.snapshot(of: a)?.chosenStatus == .busy)
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.busy])
    }

    @Test func testSecondDeviceKeepsTheNewerInMemoryChoice() throws {
        var world = World()
        let desktop = try world.signIn("a@x.io", 1)
        try world.run(.setStatus(desktop, .busy))
        let phone = try world.signIn("a@x.io", 2, device: .mobile, chosen: .online)  // storage lagging
        #expect(world.snapshot(of: phone)?.chosenStatus == .busy)
    }

    /// The operators' `presence_users{status}` gauge: each signed-in user once, under what
    /// contacts see, except that Hidden is counted as `hidden`, not as Offline.
    @Test func usersByStatusCountsEachSignedInUserOnceWithHiddenApart() throws {
        var world = World()
        try world.signIn("online@x.io", 1)
        try world.signIn("online@x.io", 2, device: .mobile)
        try world.signIn("busy@x.io", 3, chosen: .busy)
        try world.signIn("mobile@x.io", 4, device: .mobile)
        try world.signIn("hidden@x.io", 5, chosen: .hidden)
        let gone = try world.signIn("gone@x.io", 6)
        try world.run(.signOut(gone))
        var total: [String: Int] = [:]
        for core in world.cores { total.merge(core.usersByStatus, uniquingKeysWith: +) }
        #expect(total == ["online": 1, "busy": 1, "mobile": 1, "hidden": 1])
    }

    @Test func testSignedInOnlyOnMobileShowsMobile() throws {
        var world = World()
        let watcher = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        let phone = try world.signIn("a@x.io", 2, device: .mobile, contacts: ["c@x.io"])
        let desktop = try world.signIn("a@x.io", 3, device: .desktop, contacts: ["c@x.io"])
        try world.run(.signOut(desktop))
        try world.run(.signOut(phone))
        #expect(world.presence(of: "a@x.io", seenBy: watcher) == [.mobile, .online, .mobile, .offline])
    }

    @Test func testChoosingTheCurrentStatusEmitsNothing() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1)
        try world.run(.setStatus(a, .online))
        #expect(world.last.isEmpty)
    }

    @Test func testTheCoresNewerChoiceWinsOverAStaleStoredOneAtTheNextSignIn() throws {
        // "Hide, log out, sign in" before the hidden choice committed (or after its write
        // failed): storage still says online, and the core's newer value must win.
        var world = World()
        let w = try world.signIn("w@x.io", 9, contacts: ["a@x.io"])
        let a = try world.signIn("a@x.io", 1, contacts: ["w@x.io"])
        try world.run(.setStatus(a, .hidden))
        try world.run(.signOut(a))
        let again = try world.signIn("a@x.io", 2, chosen: .online, contacts: ["w@x.io"])
        #expect(world.events(to: again, in: world.last).first.map { event -> ChosenStatus? in
            if case .snapshot(let s) = event { return s.chosenStatus }
            return nil
        } == .hidden)
        #expect(world.presence(of: "a@x.io", seenBy: w).last == .offline)
        // Positive control: choosing online now does reach the contact.
        try world.run(.setStatus(again, .online))
        #expect(world.presence(of: "a@x.io", seenBy: w).last == .online)
    }
}
