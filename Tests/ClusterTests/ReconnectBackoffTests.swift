import Cluster
import Testing

@Suite struct ReconnectBackoffTests {
    @Test func delaysDoubleUpToTheCapEachInTheUpperHalfOfItsStep() {
        var backoff = ReconnectBackoff(initialMilliseconds: 50, maximumMilliseconds: 1_000)
        var g = SystemRandomNumberGenerator()
        let steps: [Int64] = [50, 100, 200, 400, 800, 1_000, 1_000, 1_000]
        for step in steps {
            #expect(backoff.step == step)
            let d = backoff.nextDelay(using: &g)
            #expect(d >= (step + 1) / 2 && d <= step, "delay \(d) for step \(step)")
        }
        #expect(backoff.failures == steps.count)
        backoff.reset()
        #expect(backoff.step == 50)
    }

    @Test func jitterSpreadsNodesThatFailedTogether() {
        var g = SystemRandomNumberGenerator()
        let delays = (0..<100).map { _ in
            var b = ReconnectBackoff(initialMilliseconds: 50, maximumMilliseconds: 1_000)
            for _ in 0..<5 { _ = b.nextDelay(using: &g) }
            return b.nextDelay(using: &g)
        }
        // 100 nodes on their sixth attempt: delays spread over 500...1,000 ms.
        #expect(Set(delays).count > 50)
        #expect(delays.min()! >= 500 && delays.max()! <= 1_000)
    }

    @Test func aHugeFailureCountStaysAtTheCap() {
        var b = ReconnectBackoff(initialMilliseconds: 1_000, maximumMilliseconds: 5_000)
        for _ in 0..<200 { _ = b.nextDelay() }
        #expect(b.step == 5_000)
    }
}
