import Histogram

/// Latency percentiles in microseconds, read from an HdrHistogram of nanoseconds.
struct LatencySummary: Codable {
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double
    var count: UInt64

    /// A histogram of nanoseconds from 100 ns to 60 s with 3 significant digits (0.1%).
    static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 100, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    }

    init(_ h: Histogram<UInt64>) {
        func us(_ ns: UInt64) -> Double { (Double(ns) / 100).rounded() / 10 }
        p50 = us(h.valueAtPercentile(50))
        p90 = us(h.valueAtPercentile(90))
        p99 = us(h.valueAtPercentile(99))
        p999 = us(h.valueAtPercentile(99.9))
        max = us(h.max)
        count = h.totalCount
    }

    init(p50: Double, p90: Double, p99: Double, p999: Double, max: Double, count: UInt64) {
        self.p50 = p50; self.p90 = p90; self.p99 = p99; self.p999 = p999; self.max = max; self.count = count
    }

    /// Each percentile's median across repeats.
    static func median(_ all: [LatencySummary]) -> LatencySummary {
        LatencySummary(p50: Median.of(all.map(\.p50)), p90: Median.of(all.map(\.p90)), p99: Median.of(all.map(\.p99)),
                       p999: Median.of(all.map(\.p999)), max: Median.of(all.map(\.max)),
                       count: UInt64(Median.of(all.map { Double($0.count) })))
    }

    var line: String { "p50 \(f(p50)) µs  p90 \(f(p90))  p99 \(f(p99))  p99.9 \(f(p999))  max \(f(max))  (n=\(count))" }
}

/// Medians across repeats: timings here are noisy, and one slow repeat must not move a figure.
enum Median {
    static func of(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}

/// A number for a human summary: thousands grouped, one decimal below 100.
func f(_ x: Double) -> String {
    if x.isNaN || x.isInfinite { return "n/a" }
    if abs(x) < 1 { return String((x * 1000).rounded() / 1000) }
    if abs(x) < 100 { return String((x * 10).rounded() / 10) }
    let n = Int(x.rounded())
    var digits = Array(String(abs(n)))
    var out: [Character] = []
    while digits.count > 3 { out = [","] + digits.suffix(3) + out; digits.removeLast(3) }
    return (n < 0 ? "-" : "") + String(digits + out)
}
