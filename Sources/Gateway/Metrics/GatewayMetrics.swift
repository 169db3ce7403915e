import CoreMetrics
import Foundation
import Presence
import Prometheus
import Transport
import WebSocket

/// Every metric the gateway records, made once from a factory over the registry in
/// `GatewayConfiguration.metricsRegistry` (a no-op factory without one). The gateway never
/// records through the process-global `MetricsSystem`, so each gateway (each test) counts
/// into its own registry. Names and meanings are tabled in README.md, "Metrics".
///
/// The metric objects are thread-safe (swift-prometheus uses atomics), so one value is
/// shared by the loops, the presence thread, the writer and the outbox thread.
struct GatewayMetrics: Sendable {
    let factory: any MetricsFactory

    /// `presence_connections{state}`: open sockets by state; each loop adds its changes.
    let httpConnections: CoreMetrics.Meter
    let webSocketConnections: CoreMetrics.Meter
    /// `presence_sessions{device}`: signed-in WebSockets by device kind (and subscribers).
    let sessionsByDevice: [CoreMetrics.Meter]
    /// `presence_core_sessions`: sessions the presence core holds, connected or in grace.
    let coreSessions: CoreMetrics.Gauge
    /// `presence_shard_sessions{shard}` and `presence_shard_backlog{shard}`: each presence
    /// shard's sessions and the inputs waiting in its mailbox, after each of its batches,
    /// so an operator sees a shard that lags or holds more than its share.
    let shardSessions: [CoreMetrics.Gauge]
    let shardBacklog: [CoreMetrics.Gauge]
    /// Signed-in users by the status their contacts see (`hidden` apart from offline).
    let usersByStatus: [String: CoreMetrics.Gauge]
    static let statusLabels = ["online", "busy", "idle", "mobile", "hidden", "offline"]
    /// `presence_messages_total{direction}` and `presence_message_bytes_total{direction}`.
    let messagesIn, messagesOut, bytesIn, bytesOut: CoreMetrics.Counter
    /// `presence_fanout_seconds`: a command handled → its deliveries handed to the loops.
    let fanOut: CoreMetrics.Timer
    /// `presence_sign_ins_total{method,result}`, indexed `[method][isOK ? 0 : 1]`.
    let signIns: [[CoreMetrics.Counter]]
    /// `presence_outbox_depth`: mail neither sent nor abandoned, sampled every drain.
    let outboxDepth: CoreMetrics.Gauge
    /// `presence_storage_commit_seconds`: one group commit (BEGIN through COMMIT).
    let storageCommit: CoreMetrics.Timer
    /// `presence_overloaded_total`: client ops and requests refused `overloaded` (a full
    /// mailbox: a presence shard's, the account workers' or the storage writer's).
    let overloaded: CoreMetrics.Counter
    /// `presence_cluster_replacements_total`: a cluster node's re-placements of its shards
    /// (members changed, or frames were lost on the node link).
    let clusterReplacements: CoreMetrics.Counter
    /// `presence_forwarded_for_malformed_total`: requests from a trusted proxy whose
    /// `X-Forwarded-For` did not parse, so the proxy's own address stood for the client.
    let malformedForwardedFor: CoreMetrics.Counter

    static let fanOutLabel = "presence_fanout_seconds"
    static let storageCommitLabel = "presence_storage_commit_seconds"

    /// The label values of `presence_sessions{device}`, indexed like `sessionsByDevice`.
    static let deviceLabels = Presence.DeviceKind.allCases.map { "\($0)" } + ["subscriber"]
    static var subscriberIndex: Int { Presence.DeviceKind.allCases.count }

    init(registry: PrometheusCollectorRegistry?, presenceShards: Int = 1) {
        if let registry {
            var prometheus = PrometheusMetricsFactory(registry: registry)
            // Fan-out is in-memory work (µs to ms); a commit is an fsync (ms to s).
            prometheus.durationHistogramBuckets[Self.fanOutLabel] = [
                .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            ]
            prometheus.durationHistogramBuckets[Self.storageCommitLabel] = [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
            ]
            factory = prometheus
        } else {
            factory = NOOPMetricsHandler.instance
        }
        let f = factory
        httpConnections = CoreMetrics.Meter(label: "presence_connections", dimensions: [("state", "http")], factory: f)
        webSocketConnections = CoreMetrics.Meter(label: "presence_connections", dimensions: [("state", "open")], factory: f)
        sessionsByDevice = Self.deviceLabels.map { CoreMetrics.Meter(label: "presence_sessions", dimensions: [("device", $0)], factory: f) }
        coreSessions = CoreMetrics.Gauge(label: "presence_core_sessions", factory: f)
        shardSessions = (0..<presenceShards).map {
            CoreMetrics.Gauge(label: "presence_shard_sessions", dimensions: [("shard", "\($0)")], factory: f)
        }
        shardBacklog = (0..<presenceShards).map {
            CoreMetrics.Gauge(label: "presence_shard_backlog", dimensions: [("shard", "\($0)")], factory: f)
        }
        usersByStatus = Dictionary(uniqueKeysWithValues: Self.statusLabels.map {
            ($0, CoreMetrics.Gauge(label: "presence_users", dimensions: [("status", $0)], factory: f))
        })
        messagesIn = CoreMetrics.Counter(label: "presence_messages_total", dimensions: [("direction", "in")], factory: f)
        messagesOut = CoreMetrics.Counter(label: "presence_messages_total", dimensions: [("direction", "out")], factory: f)
        bytesIn = CoreMetrics.Counter(label: "presence_message_bytes_total", dimensions: [("direction", "in")], factory: f)
        bytesOut = CoreMetrics.Counter(label: "presence_message_bytes_total", dimensions: [("direction", "out")], factory: f)
        fanOut = CoreMetrics.Timer(label: Self.fanOutLabel, factory: f)
        signIns = SignInMethod.allCases.map { method in
            ["ok", "refused"].map { CoreMetrics.Counter(label: "presence_sign_ins_total", dimensions: [("method", method.label), ("result", $0)], factory: f) }
        }
        outboxDepth = CoreMetrics.Gauge(label: "presence_outbox_depth", factory: f)
        storageCommit = CoreMetrics.Timer(label: Self.storageCommitLabel, factory: f)
        overloaded = CoreMetrics.Counter(label: "presence_overloaded_total", factory: f)
        clusterReplacements = CoreMetrics.Counter(label: "presence_cluster_replacements_total", factory: f)
        malformedForwardedFor = CoreMetrics.Counter(label: "presence_forwarded_for_malformed_total", factory: f)
    }

    /// `presence_closes_total{code}` for one close code; callers cache it (see `GatewayHandler`).
    func closes(code: CloseCode) -> CoreMetrics.Counter {
        CoreMetrics.Counter(label: "presence_closes_total", dimensions: [("code", String(code.rawValue))], factory: factory)
    }

    func signIn(_ method: SignInMethod, isOK: Bool) {
        signIns[method.rawValue][isOK ? 0 : 1].increment()
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (seconds, attoseconds) = d.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// How a `/ws` connection tried to sign in, as `presence_sign_ins_total{method}` names it.
enum SignInMethod: Int, CaseIterable, Sendable {
    case password, token, google, subscriber, resume

    var label: String { "\(self)" }

    init(_ credential: SignInCredential) {
        switch credential {
        case .password: self = .password
        case .deviceToken: self = .token
        case .google: self = .google
        case .subscriber: self = .subscriber
        }
    }
}

/// What one loop last published, so each tick adds only the change: the loops share one
/// series per metric, and each adds its own deltas (no per-loop label, no lock per frame).
struct PublishedLoopMetrics {
    var traffic = LoopTraffic()
    var http = 0
    var webSocket = 0
    var sessionsByDevice = [Int](repeating: 0, count: GatewayMetrics.deviceLabels.count)
    var published = [Int](repeating: 0, count: GatewayMetrics.deviceLabels.count)

    /// Publishes this loop's counts since the last tick.
    mutating func publish(_ loop: EventLoop, to metrics: GatewayMetrics) {
        let t = loop.traffic
        if t.messagesIn != traffic.messagesIn { metrics.messagesIn.increment(by: Int64(truncatingIfNeeded: t.messagesIn &- traffic.messagesIn)) }
        if t.messagesOut != traffic.messagesOut { metrics.messagesOut.increment(by: Int64(truncatingIfNeeded: t.messagesOut &- traffic.messagesOut)) }
        if t.bytesIn != traffic.bytesIn { metrics.bytesIn.increment(by: Int64(truncatingIfNeeded: t.bytesIn &- traffic.bytesIn)) }
        if t.bytesOut != traffic.bytesOut { metrics.bytesOut.increment(by: Int64(truncatingIfNeeded: t.bytesOut &- traffic.bytesOut)) }
        if t.malformedForwardedFor != traffic.malformedForwardedFor {
            metrics.malformedForwardedFor.increment(by: Int64(truncatingIfNeeded: t.malformedForwardedFor &- traffic.malformedForwardedFor))
        }
        traffic = t
        let (http, webSocket) = loop.connectionCounts
        if http != self.http { metrics.httpConnections.increment(by: Double(http - self.http)) }
        if webSocket != self.webSocket { metrics.webSocketConnections.increment(by: Double(webSocket - self.webSocket)) }
        self.http = http
        self.webSocket = webSocket
        for i in sessionsByDevice.indices where sessionsByDevice[i] != published[i] {
            metrics.sessionsByDevice[i].increment(by: Double(sessionsByDevice[i] - published[i]))
            published[i] = sessionsByDevice[i]
        }
    }
}
