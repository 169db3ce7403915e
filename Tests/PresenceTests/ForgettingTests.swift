import Presence
import Testing

/// A user record nobody refers to is forgotten a minute later, so requests to addresses
/// without an account (which the core cannot tell apart) do not pile up in memory.
struct ForgettingTests {
    @Test func testAWithdrawnRequestsTargetIsForgottenAfterTheDelay() throws {
        var world = World(shards: 1)  // counts the records of one core
        let a = try world.signIn("a@x.io", 1)
        try world.run(.requestContact(a, user("nobody@x.io")))
        #expect(world.core.knownUserCount == 2)
        try world.run(.removeContact(a, user("nobody@x.io")))
        world.wait(.seconds(59))
        #expect(world.core.knownUserCount == 2, "kept while the storage write may still be landing")
        world.wait(.seconds(2))
        #expect(world.core.knownUserCount == 1)
        // Asking again works as the first time did.
        try world.run(.requestContact(a, user("nobody@x.io")))
        #expect(world.events(to: a, in: world.last) == [.contactRequestSent(to: user("nobody@x.io"))])
        let second = try world.signIn("a@x.io", 2)
        #expect(world.snapshot(of: second)?.outgoingRequests == [user("nobody@x.io")])
    }

    @Test func testAPendingRequestKeepsItsTargetForever() throws {
        var world = World(shards: 1)  // counts the records of one core
        let a = try world.signIn("a@x.io", 1)
        try world.run(.requestContact(a, user("nobody@x.io")))
        world.wait(.seconds(3_600))
        #expect(world.core.knownUserCount == 2)
    }

    /// Within the delay the tombstone still wins over a storage list read before the
    /// removal was written.
    @Test func testATombstoneOutlivesTheStorageWriteWindow() throws {
        var world = World(shards: 1)  // counts the records of one core
        let a = try world.signIn("a@x.io", 1)
        try world.run(.requestContact(a, user("b@x.io")))
        try world.run(.removeContact(a, user("b@x.io")))
        world.wait(.seconds(5))
        let stale = [ContactEntry(user: user("a@x.io"), state: .requestedByThem)]
        try world.run(.signIn(SignIn(session: world.session(2), user: user("b@x.io"), device: .desktop, contacts: stale)))
        #expect(world.snapshot(of: world.session(2))?.incomingRequests == [])
    }

    /// A forgotten record's index is reused by the next new user, who starts clean: no old
    /// tombstone keeps their stored contacts out.
    @Test func testAReusedRecordStartsClean() throws {
        var world = World(shards: 1)  // counts the records of one core
        let a = try world.signIn("a@x.io", 1, contacts: ["y@x.io"])
        try world.run(.requestContact(a, user("nobody@x.io")))
        try world.run(.removeContact(a, user("nobody@x.io")))
        world.wait(.seconds(61))
        let y = try world.signIn("y@x.io", 2, contacts: ["a@x.io"])
        #expect(world.core.knownUserCount == 2)
        #expect(world.view(of: user("y@x.io"), for: user("a@x.io"))?.status == .online)
        #expect(world.presence(of: "y@x.io", seenBy: a).last == .online)
        #expect(world.snapshot(of: y)?.contacts.map(\.user) == [user("a@x.io")])
        #expect(world.view(of: user("nobody@x.io"), for: user("a@x.io")) == nil)
    }

    @Test func testAUserASubscriberMayWatchIsKept() throws {
        var world = World(shards: 1)  // counts the records of one core
        let a = try world.signIn("a@x.io", 1)
        try world.run(.signInSubscriber(world.session(100), allowed: [user("nobody@x.io")]))
        try world.run(.requestContact(a, user("nobody@x.io")))
        try world.run(.removeContact(a, user("nobody@x.io")))
        world.wait(.seconds(61))
        #expect(world.core.knownUserCount == 2)
        try world.run(.signOut(world.session(100)))
        world.wait(.seconds(61))
        #expect(world.core.knownUserCount == 1)
    }

    @Test func testAUserWithoutContactsIsForgottenAfterTheirLastSessionEnds() throws {
        var world = World(shards: 1)  // counts the records of one core
        let a = try world.signIn("a@x.io", 1, chosen: .busy)
        try world.run(.signOut(a))
        world.wait(.seconds(61))
        #expect(world.core.knownUserCount == 0)
        // Storage's choice counts at the next sign-in, as for a user never seen.
        let again = try world.signIn("a@x.io", 2, chosen: .hidden)
        #expect(world.snapshot(of: again)?.chosenStatus == .hidden)
    }

    @Test func testADeletedAccountAndTheAddressesItAskedAreForgotten() throws {
        var world = World(shards: 1)  // counts the records of one core
        let a = try world.signIn("a@x.io", 1)
        try world.run(.requestContact(a, user("nobody@x.io")))
        try world.run(.deleteAccount(user("a@x.io")))
        world.wait(.seconds(61))
        #expect(world.core.knownUserCount == 0)
    }
}
