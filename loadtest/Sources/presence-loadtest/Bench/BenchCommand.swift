import ArgumentParser
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Micro-benchmarks of the hot paths (WebSocket, HTTP head scan, presence encode and fan-out, shard-message codec, scrypt): ns/op and allocations/op.",
        discussion: """
            Allocations are counted only when the counting malloc is preloaded; run through \
            loadtest/bench.sh, which builds and preloads it. Without it they show as n/a.
            """)

    @Option(help: "Run only benchmarks whose name contains this text.")
    var filter: String?

    @Option(help: "Seconds per sample (each benchmark takes about 5 samples plus a warm-up).")
    var seconds = 0.2

    @Option(help: "Samples per benchmark; the median is reported.")
    var samples = 5

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    func validate() throws {
        guard seconds > 0 && seconds <= 10 else { throw ValidationError("--seconds must be in (0, 10]") }
        guard (1...50).contains(samples) else { throw ValidationError("--samples must be 1...50") }
    }

    func run() throws {
        let fixture = HotPathBenchmarks.Fixture()
        let presence = PresenceBenchmarks.Fixture()
        let lookups = PresenceBenchmarks.LookupFixture()
        let heads = HeadScanBenchmarks.Fixture()
        let wire = ClusterWireBenchmarks.Fixture()
        let edgeWire = ClusterWireBenchmarks.DeliveryFixture()
        let all = HotPathBenchmarks.all(fixture) + PresenceBenchmarks.all(presence) + PresenceBenchmarks.lookups(lookups) + HeadScanBenchmarks.all(heads)
            + ClusterWireBenchmarks.all(wire) + ClusterWireBenchmarks.deliveries(edgeWire) + ScryptBenchmarks.all()
        let chosen = all.filter { filter == nil || $0.name.contains(filter!) }
        print("allocations: \(AllocationCounter.isAvailable ? "counted by the preloaded malloc counter" : "n/a (run through loadtest/bench.sh)")")
        var results: [BenchResult] = []
        for b in chosen {
            let r = BenchHarness.measure(b, seconds: seconds, samples: samples)
            results.append(r)
            let alloc = r.allocationsPerOp.map { "\($0)" } ?? "n/a"
            let rate = r.megabytesPerSecond.map { "  \(f($0)) MB/s" } ?? ""
            print("\(r.name.padding(toLength: 92, withPad: " ", startingAt: 0)) \(String(format: "%9.1f", r.nsPerOp)) ns/op  \(alloc) allocs/op\(rate)")
            if r.name.hasPrefix("cluster wire") {
                print("    = \(String(format: "%.2f", 1e3 / r.nsPerOp)) million messages/s")
            }
        }
        if chosen.contains(where: { $0.name.hasPrefix("head scan") }) {
            let examined = HeadScanBenchmarks.bytesExamined(heads)
            print("head scan, bytes examined per \(heads.head.count)-byte head: before \(examined.before), after \(examined.after)")
        }
        if fixture.delivered == 42 || presence.delivered == 42 || lookups.found == 42 || heads.found == 42 || wire.decoded == 42 || edgeWire.decoded == 42 { print("") }  // keeps the optimizer from dropping the work
        if let json {
            struct BenchReport: Encodable { var benchmarks: [BenchResult]; var machine: Machine; var allocationMethod: String }
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let method = AllocationCounter.isAvailable ? "LD_PRELOAD counting malloc (loadtest/malloc-counter)" : "not measured"
            try encoder.encode(BenchReport(benchmarks: results, machine: Machine.current(), allocationMethod: method))
                .write(to: URL(fileURLWithPath: json))
            print("report: \(json)")
        }
    }
}
