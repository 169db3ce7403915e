@testable import Presence
import Testing

struct ResumeTests {
    @Test func testResumeReplaysMissedEventsWithTheirOriginalSequences() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, contacts: ["a@x.io"])
        // a: 1 snapshot, 2 b online. The client saw up to 2, then the connection died.
        try world.run(.connectionLost(a))
        try world.run(.setStatus(b, .busy))                  // a: 3
        try world.run(.requestContact(b, user("d@x.io")))    // not a's business
        let before = world.log.count
        try world.run(.resume(a, lastSeenSequence: 2))
        let replayed = world.deliveries(to: a, in: Array(world.log[before...]))
        #expect(replayed.map(\.sequence) == [3])
        #expect(replayed.map(\.event) == [.presence(user("b@x.io"), PresenceView(status: .busy))])
        try world.run(.setStatus(b, .online))
        #expect(world.deliveries(to: a, in: world.last).map(\.sequence) == [4])
    }

    @Test func testEventsWrittenToADyingConnectionAreReplayed() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, contacts: ["a@x.io"])
        try world.run(.setStatus(b, .busy))  // a: 3, written while the connection was still up
        try world.run(.connectionLost(a))
        try world.run(.resume(a, lastSeenSequence: 2))  // but the client never got it
        #expect(world.deliveries(to: a, in: world.last).map(\.sequence) == [3])
    }

    @Test func testResumeTooFarBehindClosesForAFreshSignIn() throws {
        var world = World(PresenceConfiguration(debounce: .zero, replayCapacity: 4))
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, contacts: ["a@x.io"])
        try world.run(.connectionLost(a))
        for _ in 0..<3 {
            try world.run(.setStatus(b, .busy))
            try world.run(.setStatus(b, .online))
        }
        // One truthful answer: refused, not accepted and then closed. The session ends.
        #expect(world.refusal(.resume(a, lastSeenSequence: 2)) == .resumeImpossible)
        #expect(world.sideEffects(in: world.last) == [.close(a, reason: .resumeImpossible)])
        #expect(world.deliveries(to: a, in: world.last).isEmpty)
        #expect(world.refusal(.resume(a, lastSeenSequence: 2)) == .unknownSession)
        #expect(CloseReason.resumeImpossible.clientAction == .signInAgain)
    }

    @Test func testResumeAheadOfWhatWasSentIsRefused() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1)
        #expect(world.refusal(.resume(a, lastSeenSequence: 9)) == .sequenceAhead)
        #expect(world.refusal(.heartbeat(a, lastSeenSequence: 2)) == .sequenceAhead)
    }

    @Test func testAcknowledgedEventsAreNotReplayed() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1, contacts: ["b@x.io"])
        let b = try world.signIn("b@x.io", 2, contacts: ["a@x.io"])
        try world.run(.setStatus(b, .busy))
        try world.run(.heartbeat(a, lastSeenSequence: 3))
        try world.run(.connectionLost(a))
        // A client cannot resume from before what it acknowledged.
        #expect(world.refusal(.resume(a, lastSeenSequence: 1)) == .resumeImpossible)
        #expect(world.sideEffects(in: world.last) == [.close(a, reason: .resumeImpossible)])
    }

    @Test func testReplayBufferKeepsTheNewestEventsAndCountsSequences() {
        var buffer = ReplayBuffer()
        let limits = ReplayBuffer.Limits(capacity: 3)
        for n in 1...5 { #expect(buffer.append(.ownStatus(n % 2 == 0 ? .busy : .online), within: limits) == UInt64(n)) }
        #expect(buffer.canReplay(after: 2))
        #expect(!buffer.canReplay(after: 1))
        #expect(buffer.events(after: 2, within: limits).map(\.sequence) == [3, 4, 5])
        var seen = 0
        buffer.discard(through: 4, within: limits) { _ in seen += 1 }
        #expect(seen == 2)
        #expect(buffer.events(after: 4, within: limits).map(\.sequence) == [5])
        #expect(!buffer.canReplay(after: 3))
        #expect(buffer.append(.ownStatus(.hidden), within: limits) == 6)
        #expect(buffer.events(after: 4, within: limits).map(\.sequence) == [5, 6])
    }
}
