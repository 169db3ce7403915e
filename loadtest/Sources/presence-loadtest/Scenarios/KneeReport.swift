/// `presence --find-knee`: every step of the search and the knee it found (the JSON `knee`).
struct KneeReport: Codable {
    struct Step: Codable {
        /// The rate the step offered, and what arrived.
        var changesPerSecond: Double
        var deliveriesPerSecond: Double
        var latencyUs: LatencySummary
        var changes: Int
        var skipped: Int
        /// Deliveries still missing when the step's drain ended: over any limit, so the step fails.
        var late: Int
        var clientCpuCores: Double?
        var serverCpuCores: Double?
        /// 0 for the first window at this rate, 1... for retries after a failure.
        var attempt: Int
        var passed: Bool
    }

    var p99LimitMs: Double
    var maxSkippedFraction: Double
    /// The passing step with the most deliveries per second; nil when no step passed.
    var kneeDeliveriesPerSecond: Double?
    var kneeChangesPerSecond: Double?
    var kneeP99Us: Double?
    /// The lowest offered rate at which no window passed (the knee lies below it), if any.
    var lowestFailingChangesPerSecond: Double?
    var steps: [Step]

    init(p99LimitMs: Double, maxSkippedFraction: Double, steps: [Step]) {
        self.p99LimitMs = p99LimitMs
        self.maxSkippedFraction = maxSkippedFraction
        self.steps = steps
        let best = steps.filter(\.passed).max { $0.deliveriesPerSecond < $1.deliveriesPerSecond }
        kneeDeliveriesPerSecond = best?.deliveriesPerSecond
        kneeChangesPerSecond = best?.changesPerSecond
        kneeP99Us = best?.latencyUs.p99
        let passingRates = Set(steps.filter(\.passed).map(\.changesPerSecond))
        lowestFailingChangesPerSecond = steps.map(\.changesPerSecond).filter { !passingRates.contains($0) }.min()
    }

    func printTable() {
        print("  knee search (p99 limit \(f(p99LimitMs * 1000)) µs, at most \(f(maxSkippedFraction * 100)) % skipped, nothing late):")
        print("    win   changes/s  deliveries/s    p50 µs    p99 µs  skipped  late  client/server cores  verdict")
        for (k, s) in steps.enumerated() {
            let cpu = "\(f(s.clientCpuCores ?? 0)) / \(s.serverCpuCores.map { f($0) } ?? "?")"
            print("    " + [pad("\(k + 1)" + (s.attempt > 0 ? "r" : ""), 4), pad(f(s.changesPerSecond), 10), pad(f(s.deliveriesPerSecond), 13),
                          pad(f(s.latencyUs.p50), 9), pad(f(s.latencyUs.p99), 9), pad("\(s.skipped)", 8), pad("\(s.late)", 5),
                          pad(cpu, 20), s.passed ? "pass" : "fail"].joined(separator: " "))
        }
        if let d = kneeDeliveriesPerSecond, let c = kneeChangesPerSecond {
            print("  knee: \(f(d)) deliveries/s (\(f(c)) changes/s offered, p99 \(f(kneeP99Us ?? 0)) µs)"
                  + (lowestFailingChangesPerSecond.map { "; \(f($0)) changes/s failed" } ?? "; no step failed (raise the start or --knee-max-steps)"))
        } else {
            print("  knee: no step passed (lower the start rate)")
        }
        if steps.contains(where: { $0.attempt > 0 }) {
            print("  (r: a retry at the same rate after a failing window; a rate fails only if all its windows failed)")
        }
    }

    private func pad(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
}
