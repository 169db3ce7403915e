import ArgumentParser

struct SlowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slow",
        abstract: "Echo load without, then with, one client that sends large messages and never reads.",
        discussion: """
            Reports the other connections' latency both ways and whether the server closed the \
            slow client (Close 1013, or a reset after its close timeout). The slow client sends \
            binary messages of --slow-message-size; the server's echoes of them pile up in its \
            output buffer until its cap (40 MiB on presenced's /echo route) is exceeded.
            """)

    @OptionGroup var common: CommonOptions

    @Option(help: "Echo connections besides the slow one.")
    var connections = 100

    @Option(help: "Messages each echo connection keeps in flight.")
    var inFlight = 1

    @Option(help: "Bytes per echo message.")
    var payloadSize = 128

    @Option(help: "Measured seconds of each half (without, with the slow client).")
    var seconds = 4.0

    @Option(help: "Seconds of traffic before measuring.")
    var warmup = 1.0

    @Option(help: "Bytes per message of the slow client.")
    var slowMessageSize = 1 << 20

    @Option(help: "Most messages the slow client sends per run (enough to pass a 40 MiB cap plus socket buffers).")
    var slowMessageLimit = 64

    func validate() throws {
        guard (1...100_000).contains(connections) else { throw ValidationError("--connections must be 1...100000") }
        guard (1...1024).contains(inFlight) else { throw ValidationError("--in-flight must be 1...1024") }
        guard (EchoPayload.minimumSize...(1 << 20)).contains(payloadSize) else { throw ValidationError("--payload-size must be \(EchoPayload.minimumSize)...1048576") }
        guard seconds > 0 && seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
        guard warmup >= 0 && warmup <= 60 else { throw ValidationError("--warmup must be 0...60") }
        guard (1024...(16 << 20)).contains(slowMessageSize) else { throw ValidationError("--slow-message-size must be 1024...16777216") }
        guard (1...10_000).contains(slowMessageLimit) else { throw ValidationError("--slow-message-limit must be 1...10000") }
        if common.compareUrl != nil { throw ValidationError("slow compares nothing: --compare-url applies to echo and idle") }
    }

    func run() throws {
        let targets = try common.targets()
        try common.prepareDescriptors(for: connections + 1, targets: targets)
        var s = try common.settings(connections: connections, payloadSize: payloadSize, inFlight: inFlight,
                                    seconds: seconds, warmup: warmup)
        s.slowMessageSize = slowMessageSize
        s.slowMessageLimit = slowMessageLimit
        print("slow: \(connections) echo connections × \(inFlight) in flight, plus one client sending \(slowMessageSize >> 10) KiB "
              + "messages without reading; \(f(seconds)) s per half × \(common.repeats)")
        let (summary, failures) = try SlowScenario.run(s, target: targets[0], repeats: common.repeats)
        var p = common.parameters(s)
        p.inFlight = inFlight; p.payloadSize = payloadSize; p.warmupSeconds = warmup
        p.slowMessageSize = slowMessageSize; p.slowMessageLimit = slowMessageLimit
        let report = Report(scenario: "slow", settings: s, repeats: common.repeats, parameters: p,
                            gateway: summary, peer: nil, failures: failures)
        print("median: others' p99 \(f(summary.latencyWithoutSlowUs?.p99 ?? 0)) µs without, \(f(summary.latencyUs?.p99 ?? 0)) µs with "
              + "the slow client (×\(summary.p99Ratio.map { f($0) } ?? "?"); target ≤ ×1.2)")
        try common.finish(report)
    }
}
