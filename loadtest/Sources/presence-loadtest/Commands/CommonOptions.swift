import ArgumentParser
import CPosix
import Glibc

/// Options every load scenario takes.
struct CommonOptions: ParsableArguments {
    @Option(help: "The server's WebSocket URL: ws://127.x.y.z:PORT/PATH (loopback only). Several, separated by commas (a cluster's nodes): connection i goes to URL i mod n.")
    var url: String

    @Option(help: "Write the JSON report to this file.")
    var json: String?

    @Option(help: "The server's PID: read its VmRSS and CPU time from /proc.")
    var serverPid: Int32?

    @Option(help: "Another RFC 6455 echo server to run alternately with --url; the report gives the ratio.")
    var compareUrl: String?

    @Option(help: "The compared server's PID (for its memory and CPU).")
    var comparePid: Int32?

    @Option(help: "Times to run the scenario; medians are reported.")
    var repeats = 3

    @Option(help: "Seed of payloads, handshake keys, mask keys, and the flippers and chat bodies of signed-in runs: the same seed gives the same workload.")
    var seed: UInt64 = 1

    @Option(help: "Client event-loop threads (1-2 on a 2-core machine shared with the server); signed-in scenarios always use 1.")
    var threads = 1

    @Option(help: "Connections per source address in 127.0.0.0/8 (default: the ephemeral port range minus 2,000).")
    var connectionsPerSourceAddress: Int?

    @Option(help: "Connections in connect or handshake at once (the server's accept backlog).")
    var connectConcurrency = 512

    @Option(help: "Seconds allowed for all connections to open.")
    var connectTimeout = 60.0

    func validate() throws {
        guard (1...100).contains(repeats) else { throw ValidationError("--repeats \(repeats): must be 1...100") }
        guard (1...16).contains(threads) else { throw ValidationError("--threads \(threads): must be 1...16") }
        guard connectConcurrency >= 1 else { throw ValidationError("--connect-concurrency must be at least 1") }
        guard connectTimeout > 0 && connectTimeout <= 600 else { throw ValidationError("--connect-timeout must be in (0, 600]") }
        if comparePid != nil && compareUrl == nil { throw ValidationError("--compare-pid needs --compare-url") }
    }

    /// The gateway first, then the peer if one is compared.
    func targets() throws(LoadTestError) -> [Target] {
        var list = [Target(label: "gateway", urls: try WebSocketURL.list(url), pid: serverPid)]
        if let compareUrl { list.append(Target(label: "peer", urls: [try WebSocketURL(compareUrl)], pid: comparePid)) }
        return list
    }

    /// Raises RLIMIT_NOFILE and checks that this process and the servers can hold `connections`.
    func prepareDescriptors(for connections: Int, targets: [Target]) throws(LoadTestError) {
        cposix_ignore_sigpipe()
        let limit = cposix_raise_nofile()
        let needed = connections + 64
        if limit >= 0 && Int(limit) < needed { throw .tooFewFileDescriptors(needed: needed, limit: Int(limit)) }
        for t in targets {
            if let pid = t.pid, let serverLimit = ProcessStats.openFileLimit(pid: pid), serverLimit < connections + 16 {
                throw .serverFileDescriptorLimit(pid: pid, needed: connections, limit: serverLimit)
            }
        }
    }

    func settings(connections: Int, payloadSize: Int = 128, inFlight: Int = 1, deflate: Bool = false,
                  seconds: Double = 0, warmup: Double = 0) throws(LoadTestError) -> RunSettings {
        RunSettings(
            urls: try WebSocketURL.list(url), connections: connections, threads: threads, payloadSize: payloadSize,
            inFlight: inFlight, deflate: deflate, seconds: seconds, warmupSeconds: warmup, drainSeconds: 5, seed: seed,
            connectionsPerSourceAddress: connectionsPerSourceAddress ?? SourceAddressPool.defaultPerAddress(),
            connectConcurrency: connectConcurrency, connectTimeoutSeconds: connectTimeout,
            slowMessageSize: 1 << 20, slowMessageLimit: 64)
    }

    func parameters(_ s: RunSettings) -> Report.Parameters {
        Report.Parameters(threads: s.threads, connectConcurrency: s.connectConcurrency,
                          connectionsPerSourceAddress: s.connectionsPerSourceAddress)
    }

    /// Prints the verdict, writes the JSON, and exits 2 if anything was incorrect.
    func finish(_ report: Report) throws {
        if let json { try report.write(to: json) }
        if report.failures.isEmpty {
            switch report.scenario {
            case "presence", "chat", "storm", "idle-signed-in":
                print("correct: everyone signed in, every event arrived in sequence, nothing lost, nothing revealed")
            default:
                print("correct: every connection opened" + (report.scenario == "idle" ? "" : " and every echo was answered")
                      + (report.scenario == "slow" ? "; the slow client was closed" : ""))
            }
        } else {
            print("INCORRECT:")
            for failure in report.failures.prefix(20) { print("  - \(failure)") }
        }
        if let json { print("report: \(json)") }
        if !report.failures.isEmpty { throw ExitCode(2) }
    }
}
