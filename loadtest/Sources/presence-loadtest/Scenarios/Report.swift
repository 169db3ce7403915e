import Foundation

/// The JSON file of a run. The top level carries the gateway's medians under the names
/// outside scripts read (`scenario`, `connections`, `seconds`, `messages_per_second`,
/// `latency_us`, `server_rss_bytes_per_connection`); `compare` holds the peer's.
struct Report: Encodable {
    struct Parameters: Encodable {
        var threads: Int
        var inFlight: Int?
        var payloadSize: Int?
        var deflate: Bool?
        var warmupSeconds: Double?
        var connectConcurrency: Int
        var connectionsPerSourceAddress: Int
        var slowMessageSize: Int?
        var slowMessageLimit: Int?
        // signed-in scenarios
        var users: Int?
        var hiddenUsers: Int?
        var flipFraction: Double?
        var changesPerSecond: Double?
        var messagesPerSecondTarget: Double?
        var drainSeconds: Double?
        var settleSeconds: Double?
        /// idle: every connection signed in over presence.v1.
        var signedIn: Bool?
        /// The server's MALLOC_ARENA_MAX (from /proc/PID/environ), if it was set.
        var serverMallocArenaMax: String?
    }

    struct Comparison: Encodable {
        var peer: TargetSummary
        /// Gateway figure divided by the peer's.
        var ratio: Ratios
    }

    var scenario: String
    var url: String
    var connections: Int
    var seconds: Double
    var repeats: Int
    var seed: UInt64
    var messagesPerSecond: Double?
    var latencyUs: LatencySummary?
    var serverRssBytesPerConnection: Double?
    var connectSeconds: Double?
    var clientCpuCores: Double?
    var serverCpuCores: Double?
    var latencyWithoutSlowUs: LatencySummary?
    var p99Ratio: Double?
    var slowClientClosed: Bool?
    var deliveriesPerSecond: Double?
    var deliveryLatencyUs: LatencySummary?
    var signInSeconds: Double?
    var resumeSeconds: Double?
    var signInLatencyUs: LatencySummary?
    var resumeLatencyUs: LatencySummary?
    var correct: Bool
    var failures: [String]
    var parameters: Parameters
    var machine: Machine
    var gateway: TargetSummary
    var compare: Comparison?
    /// presence --find-knee: the steps and the knee (the top-level figures are the knee step's).
    var knee: KneeReport?
    /// idle --signed-in with --server-heap: the server's memory before and after, per session.
    var serverMemory: ServerMemoryReport?

    init(scenario: String, settings: RunSettings, repeats: Int, parameters: Parameters,
         gateway: TargetSummary, peer: TargetSummary?, failures: [String]) {
        self.scenario = scenario
        url = gateway.url
        connections = settings.connections
        seconds = settings.seconds
        self.repeats = repeats
        seed = settings.seed
        messagesPerSecond = gateway.messagesPerSecond
        latencyUs = gateway.latencyUs
        serverRssBytesPerConnection = gateway.serverRssBytesPerConnection
        connectSeconds = gateway.connectSeconds
        clientCpuCores = gateway.clientCpuCores
        serverCpuCores = gateway.serverCpuCores
        latencyWithoutSlowUs = gateway.latencyWithoutSlowUs
        p99Ratio = gateway.p99Ratio
        slowClientClosed = gateway.slowClientClosed
        deliveriesPerSecond = gateway.deliveriesPerSecond
        deliveryLatencyUs = gateway.deliveryLatencyUs
        signInSeconds = gateway.signInSeconds
        resumeSeconds = gateway.resumeSeconds
        signInLatencyUs = gateway.signInLatencyUs
        resumeLatencyUs = gateway.resumeLatencyUs
        correct = failures.isEmpty
        self.failures = failures
        self.parameters = parameters
        machine = Machine.current()
        self.gateway = gateway
        compare = peer.map { Comparison(peer: $0, ratio: Ratios(gateway: gateway, peer: $0)) }
    }

    func write(to path: String) throws(LoadTestError) {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            let data = try encoder.encode(self)
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw .cannotWriteReport(path: path, reason: "\(error)")
        }
    }
}
