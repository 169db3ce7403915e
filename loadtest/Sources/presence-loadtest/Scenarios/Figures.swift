/// A server a scenario runs against: the gateway, or the peer it is compared with.
struct Target {
    var label: String
    /// One URL, or a cluster's nodes (connection i goes to URL i mod n).
    var urls: [WebSocketURL]
    var pid: Int32?
}

/// What one repeat measured against one target. Fields that do not apply stay nil and are
/// left out of the JSON.
struct RepeatFigures: Codable {
    var messagesPerSecond: Double?
    var latencyUs: LatencySummary?
    var connections: Int?
    var connectSeconds: Double?
    var connectionsPerSecond: Double?
    var clientCpuCores: Double?
    var serverCpuCores: Double?
    var serverRssBytes: Int?
    var serverRssBytesPerConnection: Double?
    /// Growth from the RSS read just before this repeat; after the first repeat the
    /// allocator reuses freed memory, so this understates (see README).
    var serverRssGrowthThisRepeatBytes: Int?
    var clientRssBytesPerConnection: Double?
    var sent: UInt64?
    var answered: UInt64?
    // slow
    var latencyWithoutSlowUs: LatencySummary?
    var messagesPerSecondWithoutSlow: Double?
    var p99Ratio: Double?
    var slowClientClosed: Bool?
    var slowCloseCode: UInt16?
    var slowCloseReason: String?
    var slowClosedAfterSeconds: Double?
    var slowBytesSent: Int?
    // signed-in scenarios
    var signedIn: Int?
    /// presence: arrivals of measured changes per second; chat: deliveries per second.
    var deliveriesPerSecond: Double?
    /// chat: send → the chat event at the partner.
    var deliveryLatencyUs: LatencySummary?
    var changes: Int?
    var deliveriesExpected: Int?
    var deliveriesArrived: Int?
    var skipped: Int?
    var lost: Int?
    var storedReceipts: Int?
    /// storm: first connect → last snapshot, and first reconnect → last resume reply.
    var signInSeconds: Double?
    var resumeSeconds: Double?
    var signInLatencyUs: LatencySummary?
    var resumeLatencyUs: LatencySummary?
    var resumed: Int?
    /// Presence events that matched no change in flight (sign-in announcements, replays).
    var unmatchedPresence: Int?
}

/// Medians over the repeats of one target.
struct TargetSummary: Codable {
    var url: String
    var pid: Int32?
    var messagesPerSecond: Double?
    var latencyUs: LatencySummary?
    var connectSeconds: Double?
    var connectionsPerSecond: Double?
    var clientCpuCores: Double?
    var serverCpuCores: Double?
    /// Server RSS at the start of the invocation, before any connection of it.
    var serverRssBaselineBytes: Int?
    var serverRssBytesPerConnection: Double?
    var clientRssBytesPerConnection: Double?
    var latencyWithoutSlowUs: LatencySummary?
    var p99Ratio: Double?
    var slowClientClosed: Bool?
    var deliveriesPerSecond: Double?
    var deliveryLatencyUs: LatencySummary?
    var signInSeconds: Double?
    var resumeSeconds: Double?
    var signInLatencyUs: LatencySummary?
    var resumeLatencyUs: LatencySummary?
    var runs: [RepeatFigures]

    init(_ target: Target, runs: [RepeatFigures], rssBaseline: Int? = nil) {
        url = target.urls.map(\.description).joined(separator: ",")
        pid = target.pid
        self.runs = runs
        serverRssBaselineBytes = rssBaseline
        func med(_ key: KeyPath<RepeatFigures, Double?>) -> Double? {
            let values = runs.compactMap { $0[keyPath: key] }
            return values.isEmpty ? nil : Median.of(values)
        }
        messagesPerSecond = med(\.messagesPerSecond)
        connectSeconds = med(\.connectSeconds)
        connectionsPerSecond = med(\.connectionsPerSecond)
        clientCpuCores = med(\.clientCpuCores)
        serverCpuCores = med(\.serverCpuCores)
        serverRssBytesPerConnection = med(\.serverRssBytesPerConnection)
        clientRssBytesPerConnection = med(\.clientRssBytesPerConnection)
        p99Ratio = med(\.p99Ratio)
        deliveriesPerSecond = med(\.deliveriesPerSecond)
        signInSeconds = med(\.signInSeconds)
        resumeSeconds = med(\.resumeSeconds)
        func medLatency(_ key: KeyPath<RepeatFigures, LatencySummary?>) -> LatencySummary? {
            let all = runs.compactMap { $0[keyPath: key] }
            return all.isEmpty ? nil : LatencySummary.median(all)
        }
        deliveryLatencyUs = medLatency(\.deliveryLatencyUs)
        signInLatencyUs = medLatency(\.signInLatencyUs)
        resumeLatencyUs = medLatency(\.resumeLatencyUs)
        let latencies = runs.compactMap(\.latencyUs)
        latencyUs = latencies.isEmpty ? nil : LatencySummary.median(latencies)
        let without = runs.compactMap(\.latencyWithoutSlowUs)
        latencyWithoutSlowUs = without.isEmpty ? nil : LatencySummary.median(without)
        let closed = runs.compactMap(\.slowClientClosed)
        slowClientClosed = closed.isEmpty ? nil : closed.allSatisfy { $0 }
    }
}

/// The gateway divided by the peer, per figure (>1 means the gateway's figure is larger).
struct Ratios: Codable {
    var messagesPerSecond: Double?
    var p99: Double?
    var serverRssBytesPerConnection: Double?
    var connectSeconds: Double?

    init(gateway g: TargetSummary, peer p: TargetSummary) {
        func ratio(_ a: Double?, _ b: Double?) -> Double? {
            guard let a, let b, b != 0 else { return nil }
            return (a / b * 1000).rounded() / 1000
        }
        messagesPerSecond = ratio(g.messagesPerSecond, p.messagesPerSecond)
        p99 = ratio(g.latencyUs?.p99, p.latencyUs?.p99)
        serverRssBytesPerConnection = ratio(g.serverRssBytesPerConnection, p.serverRssBytesPerConnection)
        connectSeconds = ratio(g.connectSeconds, p.connectSeconds)
    }
}
