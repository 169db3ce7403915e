import Presence
import Testing

/// Users on different shards, placed there on purpose (the rest of the suite runs on any
/// number of shards through `PRESENCE_TEST_SHARDS`, wherever its users happen to land).
struct ShardTests {
    /// Addresses whose bytes differ only among even values spread over the shards. FNV-1a
    /// alone put all 324 of them on one shard of two (its lowest bit is the parity of the
    /// odd bytes, the same for all of them) and on two of four or four of eight: the low k
    /// bits of FNV-1a depend only on the low k bits of each byte. The finalizer mixes
    /// every bit of the hash into the low ones.
    @Test func homesSpreadEvenWhenAddressesDifferOnlyInEvenBytes() {
        let even = Array("02468bdfhjlnprtvxz")
        let addresses = even.flatMap { a in even.map { b in UserID(email: "u\(a)\(b)@load.test")! } }
        for count in [2, 4, 8] {
            let placement = ShardPlacement(count: count, index: 0)
            var perShard = Array(repeating: 0, count: count)
            for address in addresses { perShard[placement.home(of: address)] += 1 }
            // Every shard within a third of its fair share.
            let fair = Double(addresses.count) / Double(count)
            #expect(perShard.allSatisfy { Double($0) > fair * 2 / 3 && Double($0) < fair * 4 / 3 }, "\(count) shards: \(perShard)")
        }
    }

    /// Two addresses with different homes among two shards, and one more on each.
    static func spread() -> (a: String, b: String, c: String) {
        let placement = ShardPlacement(count: 2, index: 0)
        let names = (0..<100).map { "user\($0)@x.io" }
        let onZero = names.filter { placement.home(of: user($0)) == 0 }
        let onOne = names.filter { placement.home(of: user($0)) == 1 }
        return (onZero[0], onOne[0], onOne[1])
    }

    /// What `b`'s session sees of `a` when `a` hides, or logs out, on the other shard.
    static func seenAcrossShards(hiding: Bool) throws -> (events: [String], carried: Int) {
        let (a, b, _) = Self.spread()
        var world = World(shards: 2)
        let aSession = try world.signIn(a, 1, contacts: [b])
        let bSession = try world.signIn(b, 2, contacts: [a])
        world.wait(.seconds(5))
        let before = world.carried.count
        try world.run(hiding ? .setStatus(aSession, .hidden) : .signOut(aSession))
        world.wait(.seconds(5))
        let events = world.events(to: bSession).dropFirst().map { "\($0)" }  // after the snapshot
        return (events, world.carried.count - before)
    }

    @Test func hiddenOnAnotherShardIsByteForByteLoggedOut() throws {
        let hidden = try Self.seenAcrossShards(hiding: true)
        let loggedOut = try Self.seenAcrossShards(hiding: false)
        #expect(hidden.events == loggedOut.events)
        // Positive control: the change did cross (the contact is told, through a message).
        #expect(hidden.carried > 0)
        #expect(hidden.events.last?.contains("offline (last seen") == true)
    }

    @Test func requestsThatCrossBecomeOneAcceptanceOnBothHomes() throws {
        let (a, b, _) = Self.spread()
        var world = World(shards: 2)
        let aSession = try world.signIn(a, 1)
        let bSession = try world.signIn(b, 2)
        world.isHoldingMessages = true
        try world.run(.requestContact(aSession, user(b)))
        try world.run(.requestContact(bSession, user(a)))
        world.releaseHeld()
        #expect(world.view(of: user(a), for: user(b)) == PresenceView(status: .online))
        #expect(world.view(of: user(b), for: user(a)) == PresenceView(status: .online))
        let added = { (session: SessionID) in world.events(to: session).filter { if case .contactAdded = $0 { true } else { false } } }
        #expect(added(aSession) == [.contactAdded(user(b), PresenceView(status: .online))])
        #expect(added(bSession) == [.contactAdded(user(a), PresenceView(status: .online))])
        // Stored once, by the pair's owner.
        let stored = world.log.filter { if case .persistContact(let r) = $0, r.state == .accepted { true } else { false } }
        #expect(stored.count == 1)
    }

    @Test func aWithdrawalCrossingAnAcceptanceLeavesBothHomesAgreeing() throws {
        let (a, b, _) = Self.spread()
        var world = World(shards: 2)
        let aSession = try world.signIn(a, 1)
        let bSession = try world.signIn(b, 2)
        try world.run(.requestContact(aSession, user(b)))
        world.isHoldingMessages = true
        try world.run(.removeContact(aSession, user(b)))  // a withdraws...
        try world.run(.acceptContact(bSession, user(a)))  // ...while b accepts on the other shard
        world.releaseHeld()
        // One truth, the owner's, on both homes: the pair is gone (whichever home owns it,
        // the withdrawal came first), and each side's last word on it says so.
        #expect(world.view(of: user(a), for: user(b)) == nil)
        #expect(world.view(of: user(b), for: user(a)) == nil)
        let lastContactEvent = { (session: SessionID) in
            world.events(to: session).last {
                switch $0 {
                case .contactAdded, .contactRemoved, .contactRequestSent, .contactRequestReceived: true
                default: false
                }
            }
        }
        #expect(lastContactEvent(aSession) == .contactRemoved(user(b)))
        #expect(lastContactEvent(bSession) == .contactRemoved(user(a)))
        // A later request starts afresh on both homes.
        try world.run(.requestContact(bSession, user(a)))
        #expect(world.events(to: aSession, in: world.last) == [.contactRequestReceived(from: user(b))])
    }

    @Test func aCallAcrossShardsRingsAnswersAndEnds() throws {
        let (a, b, c) = Self.spread()
        var world = World(shards: 2)
        let watcher = try world.signIn(c, 9, contacts: [a, b])
        let aSession = try world.signIn(a, 1, contacts: [b, c])
        let bSession = try world.signIn(b, 2, contacts: [a, c])
        try world.run(.invite(aSession, callee: user(b), call: CallID(7), payload: "offer"))
        #expect(world.events(to: bSession, in: world.last) == [.callIncoming(CallID(7), from: user(a), payload: "offer")])
        try world.run(.ringing(bSession, CallID(7)))
        #expect(world.events(to: aSession, in: world.last) == [.callRinging(CallID(7))])
        try world.run(.accept(bSession, CallID(7), payload: "answer"))
        #expect(world.events(to: aSession, in: world.last).first == .callAccepted(CallID(7), payload: "answer"))
        try world.run(.signal(aSession, CallID(7), payload: "ice"))
        #expect(world.events(to: bSession, in: world.last) == [.callSignal(CallID(7), payload: "ice")])
        #expect(world.presence(of: a, seenBy: watcher).last == .busy)
        #expect(world.presence(of: b, seenBy: watcher).last == .busy)
        try world.run(.hangUp(bSession, CallID(7)))
        #expect(world.events(to: aSession, in: world.last).first == .callEnded(CallID(7), .hungUp))
        #expect(world.presence(of: a, seenBy: watcher).last == .online)
        #expect(world.presence(of: b, seenBy: watcher).last == .online)
        #expect(world.refusal(.signal(aSession, CallID(7), payload: "late")) == .unknownCall)
    }

    @Test func aChatToSomeoneLoggedOutOnAnotherShardIsMailedByTheirHome() throws {
        let (a, b, _) = Self.spread()
        var world = World(shards: 2)
        let aSession = try world.signIn(a, 1, contacts: [b])
        try world.run(.send(aSession, to: user(b), clientMessageID: "m", body: "hi"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(5)))
        #expect(world.sendAnswers(in: world.last).count == 1)
        #expect(world.sideEffects(in: world.last) == [
            .sendOfflineMail(OfflineMail(recipient: user(b), firstSender: user(a), firstMessage: MessageID(5)))])
        #expect(world.carried.contains { if case .chat = $0.message { $0.to == 1 } else { false } })
    }

    /// A hidden user who writes to a contact on another shard who is not signed in is
    /// revealed to them: the contact's next sign-in shows it, as on one shard. (The chat
    /// reaches the contact's home before the publish carrying the reveal, so the contact
    /// has a record there to hold it.)
    @Test func aRevealToSomeoneNotSignedInOnAnotherShardShowsAtTheirSignIn() throws {
        let (a, b, _) = Self.spread()
        var world = World(shards: 2)
        let bSession = try world.signIn(b, 2, chosen: .hidden, contacts: [a])
        try world.run(.send(bSession, to: user(a), clientMessageID: "m", body: "I am here"))
        try world.run(.messageCommitted(world.lastTicket!, MessageID(1)))
        let aSession = try world.signIn(a, 1, contacts: [b])
        #expect(world.snapshot(of: aSession)?.contacts == [ContactPresence(user: user(b), view: PresenceView(status: .online))])
        // Control: to a third contact the hidden user did not write to, they stay offline.
        let (_, _, c) = Self.spread()
        let cSession = try world.signIn(c, 3, contacts: [b])
        #expect(world.snapshot(of: cSession)?.contacts.first?.view.status == .offline)
    }

    /// A subscriber on shard 0 watches a busy user homed on shard 1. Its `subscribe` arrives
    /// before the home answered the sign-in's `watch` (held here; over real sockets, a
    /// race): the snapshot waits for the answer and shows the user busy, not the mirror's
    /// "offline, never seen". Failed before the snapshot waited (it showed offline).
    @Test func aSnapshotWaitsForTheHomesAnswerToTheWatch() throws {
        let (_, b, _) = Self.spread()
        var world = World(shards: 2)
        let bSession = try world.signIn(b, 1)
        try world.run(.setStatus(bSession, .busy))
        world.wait(.seconds(2))
        world.isHoldingMessages = true
        try world.run(.signInSubscriber(world.session(100), allowed: [user(b)]))
        let dash = world.session(100)
        try world.run(.subscribe(dash, [user(b)]))
        // Positive control for "nothing yet": the snapshot below does arrive, once released.
        #expect(world.events(to: dash).isEmpty)
        world.releaseHeld()
        #expect(world.events(to: dash) == [.subscriptionSnapshot([ContactPresence(user: user(b), view: PresenceView(status: .busy))])])
        // Deltas follow the snapshot.
        try world.run(.setStatus(bSession, .online))
        world.wait(.seconds(2))
        #expect(world.presence(of: b, seenBy: dash) == [.online])
    }

    /// Two requests of one session, the first waiting: their snapshots keep their order.
    @Test func snapshotsKeepTheOrderTheyWereAskedIn() throws {
        let (a, b, _) = Self.spread()
        var world = World(shards: 2)
        _ = try world.signIn(a, 1)
        _ = try world.signIn(b, 2)
        world.wait(.seconds(2))
        world.isHoldingMessages = true
        try world.run(.signInSubscriber(world.session(100), allowed: [user(a), user(b)]))
        let dash = world.session(100)
        try world.run(.subscribe(dash, [user(b)]))  // homed on shard 1: waits
        try world.run(.subscribe(dash, [user(a)]))  // homed here: would not wait on its own
        #expect(world.events(to: dash).isEmpty)
        world.releaseHeld()
        #expect(world.events(to: dash) == [
            .subscriptionSnapshot([ContactPresence(user: user(b), view: PresenceView(status: .online))]),
            .subscriptionSnapshot([ContactPresence(user: user(a), view: PresenceView(status: .online))])])
    }
}
