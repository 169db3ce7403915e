@testable import Presence
import Testing

struct DeadlineQueueTests {
    @Test func testDeadlinesComeOutEarliestFirstAndTiesInInsertionOrder() {
        var queue = DeadlineQueue()
        let times: [Int64] = [50, 10, 40, 10, 30, 20, 10]
        for (n, t) in times.enumerated() { queue.insert(at: Instant(milliseconds: t), .ringTimeout(CallID(UInt64(n)))) }
        var out: [(Int64, CallID)] = []
        while let first = queue.first {
            queue.removeFirst()
            if case .ringTimeout(let id) = first.kind { out.append((first.at.milliseconds, id)) }
        }
        #expect(out.map(\.0) == [10, 10, 10, 20, 30, 40, 50])
        #expect(out.prefix(3).map(\.1) == [CallID(1), CallID(3), CallID(6)])
    }

    /// When the 32-bit insertion numbers run out, the queue renumbers what it holds: what
    /// comes out, and in which order among ties, is what it would have been.
    @Test func theInsertionNumbersRunningOutKeepsEveryTiesOrder() {
        var queue = DeadlineQueue(firstOrder: UInt32.max - 3)
        let times: [Int64] = [50, 10, 40, 10, 30, 20, 10, 10]
        for (n, t) in times.enumerated() { queue.insert(at: Instant(milliseconds: t), .ringTimeout(CallID(UInt64(n)))) }
        var out: [(Int64, CallID)] = []
        while let first = queue.first {
            queue.removeFirst()
            if case .ringTimeout(let id) = first.kind { out.append((first.at.milliseconds, id)) }
        }
        #expect(out.map(\.0) == [10, 10, 10, 10, 20, 30, 40, 50])
        #expect(out.prefix(4).map(\.1) == [CallID(1), CallID(3), CallID(6), CallID(7)])
    }

    /// Each queued deadline is a per-session cost (a session's check, and its grace end
    /// while disconnected): 24 bytes, not 32.
    @Test func anEntryIs24Bytes() {
        #expect(MemoryLayout<DeadlineQueue.Entry>.stride == 24)
    }

    /// Idleness and silence share one queued check per session: a signed-in session at
    /// rest has one deadline, not two, and activity does not add any.
    @Test func aSessionAtRestHasOneQueuedCheck() throws {
        var world = World(PresenceConfiguration(silenceTimeout: .seconds(60)))
        let a = try world.signIn("a@x.io", 1)
        _ = try world.signIn("b@x.io", 2)
        for _ in 0..<5 {
            try world.run(.setStatus(a, .busy))
            try world.run(.setStatus(a, .online))
        }
        world.wait(.seconds(30))  // the debounced publishes are out
        // One check per session, nothing else (an idle check and a silence check each,
        // 4, before they were one).
        #expect(world.cores.reduce(0) { $0 + $1.deadlines.count } == 2)
        world.wait(.seconds(31))  // both were silent past the timeout: a positive control
        #expect(world.sideEffects().contains(.close(a, reason: .heartbeatTimeout)))
    }

    @Test func testStaleDeadlinesNeverWakeTheGateway() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1)
        try world.run(.connectionLost(a))
        try world.run(.resume(a, lastSeenSequence: 1))
        // The grace deadline is stale now; the next wake-up is the idle check.
        #expect(world.nextDeadline == world.time + .seconds(300))
        // With the silence timeout on, the session's one check comes at the silence due.
        var quiet = World(PresenceConfiguration(debounce: .zero, silenceTimeout: .seconds(60)))
        let b = try quiet.signIn("b@x.io", 2)
        try quiet.run(.connectionLost(b))
        try quiet.run(.resume(b, lastSeenSequence: 1))
        #expect(quiet.nextDeadline == quiet.time + .seconds(60))
    }
}
