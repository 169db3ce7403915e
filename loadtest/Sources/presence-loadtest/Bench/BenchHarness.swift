/// A small timing harness: each benchmark runs batches until a time budget is spent,
/// several times, and reports the median ns per operation and allocations per operation.
struct Benchmark {
    var name: String
    /// Operations one call of `body` performs (frames in a buffer, messages, bytes...).
    var operationsPerCall: Int
    /// Bytes one operation touches, for a throughput figure; 0 when it does not apply.
    var bytesPerOperation: Int = 0
    var body: () -> Void
}

struct BenchResult: Codable {
    var name: String
    var nsPerOp: Double
    var allocationsPerOp: Double?
    var megabytesPerSecond: Double?
    var operations: Int
}

enum BenchHarness {
    static func measure(_ b: Benchmark, seconds: Double, samples: Int) -> BenchResult {
        // Warm up and size a batch to about a tenth of the budget.
        var calls = 1
        while true {
            let t0 = MonotonicClock.nanoseconds()
            for _ in 0..<calls { b.body() }
            let elapsed = MonotonicClock.nanoseconds() - t0
            if elapsed > UInt64(seconds * 1e8) || calls >= 1 << 30 { break }
            calls *= 2
        }
        var perOp: [Double] = []
        var allocations: [Double] = []
        for _ in 0..<samples {
            let a0 = AllocationCounter.count()
            let t0 = MonotonicClock.nanoseconds()
            for _ in 0..<calls { b.body() }
            let elapsed = MonotonicClock.nanoseconds() - t0
            let a1 = AllocationCounter.count()
            let ops = Double(calls * b.operationsPerCall)
            perOp.append(Double(elapsed) / ops)
            allocations.append(Double(a1 - a0) / ops)
        }
        let ns = Median.of(perOp)
        return BenchResult(
            name: b.name, nsPerOp: (ns * 10).rounded() / 10,
            allocationsPerOp: AllocationCounter.isAvailable ? (Median.of(allocations) * 1000).rounded() / 1000 : nil,
            megabytesPerSecond: b.bytesPerOperation > 0 ? (Double(b.bytesPerOperation) / ns * 1000).rounded() : nil,
            operations: calls * b.operationsPerCall * samples)
    }
}
