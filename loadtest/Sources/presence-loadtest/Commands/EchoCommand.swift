import ArgumentParser

struct EchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "N connections keep K text messages in flight against an echo server; messages/s and latency.")

    @OptionGroup var common: CommonOptions

    @Option(help: "Connections.")
    var connections = 100

    @Option(help: "Messages each connection keeps in flight.")
    var inFlight = 1

    @Option(help: "Bytes per message (JSON text, at least \(EchoPayload.minimumSize)).")
    var payloadSize = 128

    @Flag(inversion: .prefixedNo, help: "Offer permessage-deflate (no context takeover both ways).")
    var deflate = false

    @Option(help: "Measured seconds per repeat.")
    var seconds = 10.0

    @Option(help: "Seconds of traffic before measuring.")
    var warmup = 1.0

    func validate() throws {
        guard (1...1_000_000).contains(connections) else { throw ValidationError("--connections must be 1...1000000") }
        guard (1...1024).contains(inFlight) else { throw ValidationError("--in-flight must be 1...1024") }
        guard (EchoPayload.minimumSize...(1 << 20)).contains(payloadSize) else {
            throw ValidationError("--payload-size must be \(EchoPayload.minimumSize)...1048576")
        }
        guard seconds > 0 && seconds <= 3600 else { throw ValidationError("--seconds must be in (0, 3600]") }
        guard warmup >= 0 && warmup <= 60 else { throw ValidationError("--warmup must be 0...60") }
    }

    func run() throws {
        let targets = try common.targets()
        try common.prepareDescriptors(for: connections, targets: targets)
        let s = try common.settings(connections: connections, payloadSize: payloadSize, inFlight: inFlight,
                                    deflate: deflate, seconds: seconds, warmup: warmup)
        print("echo: \(connections) connections × \(inFlight) in flight, \(payloadSize) B, deflate \(deflate ? "on" : "off"), "
              + "\(f(seconds)) s × \(common.repeats), \(common.threads) client thread(s)")
        let (summaries, failures) = try EchoScenario.run(s, targets: targets, repeats: common.repeats)
        var p = common.parameters(s)
        p.inFlight = inFlight; p.payloadSize = payloadSize; p.deflate = deflate; p.warmupSeconds = warmup
        let report = Report(scenario: "echo", settings: s, repeats: common.repeats, parameters: p,
                            gateway: summaries[0], peer: summaries.count > 1 ? summaries[1] : nil, failures: failures)
        printSummary(report)
        try common.finish(report)
    }

    func printSummary(_ r: Report) {
        print("median: \(f(r.messagesPerSecond ?? 0)) msg/s, \(r.latencyUs?.line ?? "")")
        print("        CPU: client \(f(r.clientCpuCores ?? 0)) cores, server \(r.serverCpuCores.map { f($0) } ?? "? (give --server-pid)") cores")
        if let c = r.compare {
            print("peer:   \(f(c.peer.messagesPerSecond ?? 0)) msg/s, \(c.peer.latencyUs?.line ?? "")")
            print("ratio gateway/peer: msg/s ×\(c.ratio.messagesPerSecond.map { f($0) } ?? "?"), p99 ×\(c.ratio.p99.map { f($0) } ?? "?")")
        }
    }
}
