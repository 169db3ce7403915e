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

    @Test func testStaleDeadlinesNeverWakeTheGateway() throws {
        var world = World()
        let a = try world.signIn("a@x.io", 1)
        try world.run(.connectionLost(a))
        try world.run(.resume(a, lastSeenSequence: 1))
        // The grace deadline is stale now; the next wake-up is the idle check.
        #expect(world.nextDeadline == world.time + .seconds(300))
    }
}
