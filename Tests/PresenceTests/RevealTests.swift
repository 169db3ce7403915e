import Presence
import Testing

/// How a hidden user's reveal to one contact ends: by choosing Hidden again, and never
/// toward someone who is no longer a contact.
struct RevealTests {
    /// Every presence view of `subject` delivered to `session`, in order.
    func views(of subject: String, seenBy session: SessionID, in world: World, _ effects: [Effect]? = nil) -> [PresenceView] {
        world.events(to: session, in: effects).compactMap {
            if case .presence(let who, let view) = $0, who == user(subject) { return view }
            return nil
        }
    }

    @Test func testChoosingHiddenAgainEndsTheRevealWithTheLastSeenOfHiding() throws {
        var world = World()
        let c = try world.signIn("c@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, contacts: ["c@x.io"])
        world.wait(.seconds(10))
        try world.run(.setStatus(b, .hidden))
        let hiddenAt = world.time
        #expect(views(of: "b@x.io", seenBy: c, in: world, world.last) == [PresenceView(status: .offline, lastSeen: hiddenAt)])
        world.wait(.seconds(10))
        try world.run(.send(b, to: user("c@x.io"), clientMessageID: "b-1", body: "here"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        #expect(views(of: "b@x.io", seenBy: c, in: world, world.last) == [PresenceView(status: .online)])
        world.wait(.seconds(10))

        try world.run(.setStatus(b, .hidden))
        #expect(views(of: "b@x.io", seenBy: c, in: world, world.last) == [PresenceView(status: .offline, lastSeen: hiddenAt)])
        // The choice itself did not change: nothing to store, and no `ownStatus`.
        #expect(world.sideEffects(in: world.last).isEmpty)
        #expect(world.events(to: b, in: world.last).isEmpty)
        // And the reveal is really over: activity later shows c nothing.
        try world.run(.activity(b))
        world.wait(.seconds(3_600))
        #expect(views(of: "b@x.io", seenBy: c, in: world, world.last).isEmpty)
    }

    @Test func testChoosingHiddenAgainWithoutARevealChangesNothing() throws {
        var world = World()
        let c = try world.signIn("c@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, chosen: .hidden, contacts: ["c@x.io"])
        try world.run(.setStatus(b, .hidden))
        #expect(world.last.isEmpty)
        #expect(views(of: "b@x.io", seenBy: c, in: world).isEmpty)
    }

    /// `b` (hidden) writes to `c` with a third contact `d` watching; `c` removes `b` before the
    /// commit lands. Afterwards `b`'s status changes reach `d` but never `c`.
    @Test func testChatCommittedAfterRemovalRevealsNothingToTheExContact() throws {
        var world = World()
        let c = try world.signIn("c@x.io", 1, contacts: ["b@x.io"])
        let d = try world.signIn("d@x.io", 3, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, chosen: .hidden, contacts: ["c@x.io", "d@x.io"])
        try world.run(.send(b, to: user("c@x.io"), clientMessageID: "b-1", body: "still there?"))
        let ticket = world.lastTicket!
        try world.run(.removeContact(c, user("b@x.io")))
        try world.run(.messageCommitted(ticket, MessageID(1)))
        #expect(world.events(to: b, in: world.last).contains {
            if case .chatAccepted(let ack) = $0 { return ack.receipt == .stored } else { return false }
        })
        #expect(world.view(of: user("b@x.io"), for: user("c@x.io")) == nil)
        try world.run(.setStatus(b, .online))
        try world.run(.setStatus(b, .busy))
        #expect(views(of: "b@x.io", seenBy: d, in: world) == [PresenceView(status: .online), PresenceView(status: .busy)])
        #expect(views(of: "b@x.io", seenBy: c, in: world).isEmpty)
    }

    @Test func testRemovalEndsARingingCallSoALateAnswerRevealsNothing() throws {
        var world = World()
        let c = try world.signIn("c@x.io", 1, contacts: ["b@x.io"])
        let d = try world.signIn("d@x.io", 3, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, chosen: .hidden, contacts: ["c@x.io", "d@x.io"])
        try world.run(.invite(c, callee: user("b@x.io"), call: CallID(5), payload: "offer"))
        #expect(world.events(to: b, in: world.last) == [.callIncoming(CallID(5), from: user("c@x.io"), payload: "offer")])
        try world.run(.removeContact(c, user("b@x.io")))
        #expect(world.events(to: c, in: world.last) == [.callEnded(CallID(5), .contactRemoved), .contactRemoved(user("b@x.io"))])
        #expect(world.events(to: b, in: world.last) == [.callEnded(CallID(5), .contactRemoved), .contactRemoved(user("c@x.io"))])
        #expect(!world.sideEffects(in: world.last).contains { if case .persistMissedCall = $0 { true } else { false } })
        #expect(world.refusal(.accept(b, CallID(5), payload: "answer")) == .unknownCall)
        try world.run(.setStatus(b, .busy))
        #expect(views(of: "b@x.io", seenBy: d, in: world) == [PresenceView(status: .busy)])
        #expect(views(of: "b@x.io", seenBy: c, in: world).isEmpty)
    }

    @Test func testRemovalEndsAnAnsweredCallForBothParties() throws {
        var world = World()
        let c = try world.signIn("c@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, contacts: ["c@x.io"])
        try world.run(.invite(c, callee: user("b@x.io"), call: CallID(6), payload: "offer"))
        try world.run(.accept(b, CallID(6), payload: "answer"))
        #expect(world.view(of: user("b@x.io"), for: user("c@x.io"))?.status == .busy)
        try world.run(.removeContact(b, user("c@x.io")))
        #expect(world.events(to: c, in: world.last).first == .callEnded(CallID(6), .contactRemoved))
        #expect(world.events(to: b, in: world.last).first == .callEnded(CallID(6), .contactRemoved))
        #expect(world.refusal(.signal(c, CallID(6), payload: "ice")) == .unknownCall)
        // Neither is busy any more, and either may call someone else.
        #expect(world.refusal(.invite(c, callee: user("b@x.io"), call: CallID(7), payload: "")) == .notAContact)
    }
}
