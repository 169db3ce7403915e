@testable import Presence
import Testing

/// Bounded per-session resources: the replay ring's byte bound, the silence (heartbeat)
/// timeout, and the per-user session limit.
struct SessionLimitTests {
    func chat(_ n: UInt64, bytes: Int) -> Event {
        .chat(ChatMessage(id: MessageID(n), sender: user("a@x.io"), recipient: user("b@x.io"), clientMessageID: "c\(n)",
                          body: String(repeating: "x", count: bytes), sentAt: .zero))
    }

    @Test func testReplayRingIsBoundedInBytesAsWellAsInEvents() {
        var ring = ReplayBuffer()
        let limits = ReplayBuffer.Limits(capacity: 256, byteCapacity: 10_000)
        for n: UInt64 in 1...3 { _ = ring.append(chat(n, bytes: 4_000), within: limits) }
        // Three 4 KB chats do not fit in 10 KB: the oldest went, the newest two stay.
        #expect(ring.count == 2)
        #expect(ring.bytes <= 10_000)
        #expect(!ring.canReplay(after: 0))
        #expect(ring.canReplay(after: 1))
        #expect(ring.events(after: 1, within: limits).map(\.sequence) == [2, 3])
        // An event larger than the whole budget is not kept, and nothing before it is either.
        _ = ring.append(chat(4, bytes: 20_000), within: limits)
        #expect(ring.count == 0 && ring.bytes == 0)
        #expect(!ring.canReplay(after: 3))
        #expect(ring.canReplay(after: 4))
        // Acknowledging gives the bytes back.
        _ = ring.append(chat(5, bytes: 100), within: limits)
        ring.discard(through: 5, within: limits) { _ in }
        #expect(ring.bytes == 0)
    }

    @Test func testASilentSessionEndsAfterTheSilenceTimeoutAndHeartbeatsKeepItAlive() throws {
        var world = World(PresenceConfiguration(debounce: .zero, silenceTimeout: .seconds(50)))
        let quiet = try world.signIn("a@x.io", 1)
        let chatty = try world.signIn("b@x.io", 2)
        for _ in 0..<4 {
            world.wait(.seconds(20))
            try world.run(.heartbeat(chatty, lastSeenSequence: 0))
        }
        #expect(world.sideEffects().contains(.close(quiet, reason: .heartbeatTimeout)))
        #expect(!world.sideEffects().contains(.close(chatty, reason: .heartbeatTimeout)))
        #expect(CloseReason.heartbeatTimeout.clientAction == .signInAgain)
    }

    @Test func testASessionInItsGracePeriodIsNotSilent() throws {
        var world = World(PresenceConfiguration(disconnectGrace: .seconds(120), debounce: .zero, silenceTimeout: .seconds(50)))
        let a = try world.signIn("a@x.io", 1)
        try world.run(.connectionLost(a))
        world.wait(.seconds(100))
        #expect(!world.sideEffects().contains(.close(a, reason: .heartbeatTimeout)))
        // Resumed, it is watched again from the resume on.
        try world.run(.resume(a, lastSeenSequence: 1))
        world.wait(.seconds(49))
        #expect(!world.sideEffects().contains(.close(a, reason: .heartbeatTimeout)))
        world.wait(.seconds(2))
        #expect(world.sideEffects().contains(.close(a, reason: .heartbeatTimeout)))
    }

    @Test func testASignInPastTheSessionLimitEndsTheOldestPreferringOnesInGrace() throws {
        var world = World(PresenceConfiguration(debounce: .zero, maxSessionsPerUser: 2))
        let first = try world.signIn("a@x.io", 1)
        world.wait(.seconds(1))
        let second = try world.signIn("a@x.io", 2)
        world.wait(.seconds(1))
        try world.run(.connectionLost(second))
        let third = try world.signIn("a@x.io", 3)
        // The one in grace goes first, although the first is older.
        #expect(world.sideEffects(in: world.last) == [.close(second, reason: .sessionLimit)])
        world.wait(.seconds(1))
        _ = try world.signIn("a@x.io", 4)
        #expect(world.sideEffects(in: world.last) == [.close(first, reason: .sessionLimit)])
        #expect(world.refusal(.heartbeat(third, lastSeenSequence: 0)) == nil)
        #expect(CloseReason.sessionLimit.clientAction == .stop)
    }
}

/// The per-session op limit (a token bucket).
struct OpLimitTests {
    @Test func testOpsPastTheBurstAreRefusedWithRetryAfterAndComeBackWithTime() throws {
        var world = World(PresenceConfiguration(debounce: .zero, opBurst: 3, opsPerSecond: 2))
        let a = try world.signIn("a@x.io", 1)
        for _ in 0..<3 { #expect(world.refusal(.activity(a)) == nil) }  // positive control: the burst passes
        #expect(world.refusal(.activity(a)) == .rateLimited(retryAfterSeconds: 1))
        #expect(world.refusal(.setStatus(a, .busy)) == .rateLimited(retryAfterSeconds: 1))
        // A refused op changed nothing.
        #expect(!world.log.contains(.persistChosenStatus(user("a@x.io"), .busy)))
        // Heartbeats and logging out are never limited.
        #expect(world.refusal(.heartbeat(a, lastSeenSequence: 0)) == nil)
        world.wait(.milliseconds(500))  // 2 per second: one op back
        #expect(world.refusal(.activity(a)) == nil)
        #expect(world.refusal(.activity(a)) == .rateLimited(retryAfterSeconds: 1))
        #expect(world.refusal(.signOut(a)) == nil)
    }

    @Test func testEachSessionHasItsOwnBucket() throws {
        var world = World(PresenceConfiguration(debounce: .zero, opBurst: 1, opsPerSecond: 1))
        let a = try world.signIn("a@x.io", 1)
        let b = try world.signIn("b@x.io", 2)
        #expect(world.refusal(.activity(a)) == nil)
        #expect(world.refusal(.activity(a)) != nil)
        #expect(world.refusal(.activity(b)) == nil)  // a's flood does not limit b
    }
}
