/// `presence --find-knee`: the highest change rate whose change → contact p99 stays under a
/// limit, found by stepping the rate on one set of sessions.
///
/// Geometric phase: the rate is multiplied by `growth` after every passing step (divided by
/// it after a failing one) until a step passes and a step fails; then bisection (geometric
/// mean) between the highest passing and the lowest failing rate until they are within
/// `resolution` of each other. At most `maxSteps` steps; the client loop also stops starting
/// steps when its time budget is spent. A failing step's window is run again up to `retries`
/// times at the same rate, and the step fails only if every window failed: on a machine
/// shared with compiles one stall of another process (100+ ms) decides a 2 s window's p99,
/// and without the retry a single stall ended the climb.
struct KneeSearch: Sendable {
    /// The p99 a step may reach and still pass, in microseconds.
    var p99LimitMicros: Double
    /// The most skipped changes a passing step may have, as a fraction of those due: a step
    /// whose flippers could not keep up did not offer the rate it names.
    var maxSkippedFraction = 0.05
    var growth = 2.0
    var resolution = 1.1
    var maxSteps = 10
    var retries = 1
    var minRate = 1.0
    var maxRate = 1_000_000.0
    /// The rate (changes/s) of the next step.
    private(set) var rate: Double
    private(set) var steps = 0
    private(set) var highestPassing: Double?
    private(set) var lowestFailing: Double?

    init(startRate: Double, p99LimitMicros: Double) {
        rate = startRate
        self.p99LimitMicros = p99LimitMicros
    }

    /// Whether a step passed: something was measured, every delivery arrived within the
    /// drain, few turns were skipped, and the p99 is within the limit.
    func passes(changes: Int, skipped: Int, late: Int, p99Micros: Double) -> Bool {
        guard changes > 0, late == 0 else { return false }
        let due = Double(changes + skipped)
        return Double(skipped) <= maxSkippedFraction * due && p99Micros <= p99LimitMicros
    }

    /// Records the verdict of the step at `rate` and moves `rate` to the next step; false
    /// when the search is over.
    mutating func record(passed: Bool) -> Bool {
        steps += 1
        if passed { highestPassing = max(highestPassing ?? 0, rate) } else { lowestFailing = min(lowestFailing ?? .infinity, rate) }
        guard steps < maxSteps else { return false }
        switch (highestPassing, lowestFailing) {
        case (let pass?, nil):
            guard pass < maxRate else { return false }  // passes at the most it may offer
            rate = min(pass * growth, maxRate)
        case (nil, let fail?):
            guard fail > minRate else { return false }  // fails even at the least
            rate = max(fail / growth, minRate)
        case (let pass?, let fail?):
            guard fail / pass > resolution else { return false }
            rate = (pass * fail).squareRoot().rounded()
        case (nil, nil):
            return false
        }
        return true
    }
}
