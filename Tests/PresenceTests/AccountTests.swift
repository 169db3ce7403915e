import Presence
import Testing

struct AccountTests {
    @Test func testProfileChangeClosesEverySessionForReauthentication() throws {
        var world = World()
        let w = try world.signIn("w@x.io", 9, contacts: ["a@x.io"])
        let a1 = try world.signIn("a@x.io", 1, contacts: ["w@x.io"])
        let a2 = try world.signIn("a@x.io", 2, device: .mobile, contacts: ["w@x.io"])
        try world.run(.changeProfile(user("a@x.io"), isOfflineMailEnabled: true))
        #expect(world.sideEffects(in: world.last) == [.close(a1, reason: .reauthenticate), .close(a2, reason: .reauthenticate)])
        #expect(CloseReason.reauthenticate.clientAction == .reauthenticate)
        #expect(world.presence(of: "a@x.io", seenBy: w).last == .offline)
        // The new flag counts at once: a message now queues the offline mail.
        try world.run(.send(w, to: user("a@x.io"), clientMessageID: "1", body: "hi"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        #expect(world.sideEffects(in: world.last).count == 1)
    }

    /// A password change keeps the session that proved the current password.
    @Test func testPasswordChangeClosesEverySessionButTheOneThatMadeIt() throws {
        var world = World()
        let a1 = try world.signIn("a@x.io", 1)
        let a2 = try world.signIn("a@x.io", 2, device: .mobile)
        let a3 = try world.signIn("a@x.io", 3, device: .web)
        try world.run(.changeProfile(user("a@x.io"), isOfflineMailEnabled: false, except: a2))
        #expect(world.sideEffects(in: world.last) == [.close(a1, reason: .reauthenticate), .close(a3, reason: .reauthenticate)])
        try world.run(.activity(a2))  // still signed in
        #expect(world.refusal(.activity(a1)) == .unknownSession)
    }

    @Test func testDeletedUserGoesOfflineThenLeavesContactLists() throws {
        var world = World(PresenceConfiguration(debounce: .seconds(1)))
        let c = try world.signIn("c@x.io", 1, contacts: ["a@x.io"])
        let r = try world.signIn("r@x.io", 3)
        let a = try world.signIn("a@x.io", 2, contacts: ["c@x.io"])
        try world.run(.requestContact(r, user("a@x.io")))
        try world.run(.signInSubscriber(world.session(100), allowed: [user("a@x.io")]))
        try world.run(.subscribe(world.session(100), [user("a@x.io")]))
        try world.run(.invite(a, callee: user("c@x.io"), call: CallID(1), payload: ""))
        world.wait(.seconds(2))
        try world.run(.deleteAccount(user("a@x.io")))
        #expect(world.events(to: c, in: world.last) == [
            .callEnded(CallID(1), .cancelled),
            .presence(user("a@x.io"), PresenceView(status: .offline, lastSeen: world.time)),
            .contactRemoved(user("a@x.io"))])
        #expect(world.events(to: r, in: world.last) == [.contactRemoved(user("a@x.io"))])
        #expect(world.events(to: world.session(100), in: world.last) == [
            .presence(user("a@x.io"), PresenceView(status: .offline, lastSeen: world.time)),
            .subscriptionEnded(user("a@x.io"))])
        #expect(world.last.contains(.close(a, reason: .accountDeleted)))
        #expect(CloseReason.accountDeleted.clientAction == .stop)
        world.wait(.seconds(10))
        #expect(world.last.isEmpty)
        #expect(world.refusal(.send(c, to: user("a@x.io"), clientMessageID: "1", body: "?")) == .notAContact)
    }

    @Test func testAddressOfADeletedAccountSignsUpAfresh() throws {
        var world = World()
        try world.signIn("a@x.io", 1, chosen: .busy, contacts: ["c@x.io"])
        try world.run(.deleteAccount(user("a@x.io")))
        let again = try world.signIn("a@x.io", 2)
        #expect(world.snapshot(of: again) == Snapshot(chosenStatus: .online, contacts: [], incomingRequests: [], outgoingRequests: []))
    }
}
