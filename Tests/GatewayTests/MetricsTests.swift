import Foundation
@testable import Gateway
import PresenceClient
import Prometheus
import Testing

/// `GET /metrics` over a real socket, each test with its own registry (never the global
/// `MetricsSystem`, which can be bootstrapped once per process).
@Suite(.serialized) struct MetricsTests {
    /// `GET /metrics`. - Returns: the status and the Prometheus text.
    static func scrape(_ g: RunningGateway) throws -> (status: Int, contentType: String?, body: String) {
        let c = try WebSocketClient(port: g.operatorPort)
        try c.write("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let r = try c.readHTTPResponse()
        return (r.status, r.headers.first { $0.key.lowercased() == "content-type" }?.value, r.body)
    }

    /// The value of the series `name{labels}` exactly as written (labels in the order the
    /// gateway makes them), or nil when absent.
    static func value(_ body: String, _ series: String) -> Double? {
        for line in body.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func metricsCountSignInsMessagesClosesAndFanOut() throws {
        let registry = PrometheusCollectorRegistry()
        let g = try RunningGateway { $0.metricsRegistry = registry }
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob", device: "mobile")
        let wrong = try PresenceConnection(port: g.port)
        let refused = try wrong.call("signIn", ["method": "password", "email": "alice@example.com", "password": "Wrong#Horse9",
                                                "device": "web"])
        #expect(refused["type"] as? String == "error")
        try g.befriend((alice, "alice"), (bob, "bob"))
        _ = try alice.call("setStatus", ["status": "busy"])
        _ = try bob.event("presence") { $0["user"] as? String == "alice@example.com" && $0["status"] as? String == "busy" }
        let ack = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "m-1", "body": "hello bob"])
        #expect(ack["type"] as? String == "ok")
        _ = try bob.event("chat")
        // Bob closes with 1000; the loop tallies are published on its one-second tick.
        try bob.socket.send(.close, [0x03, 0xE8])
        _ = bob.socket.serverClosedConnection()

        var body = ""
        let published = try g.eventually(5) {
            let r = try Self.scrape(g)
            body = r.body
            return Self.value(body, #"presence_closes_total{code="1000"}"#) == 1
                && Self.value(body, #"presence_sessions{device="desktop"}"#) == 1
                && Self.value(body, #"presence_sessions{device="mobile"}"#) == 0
                && Self.value(body, #"presence_connections{state="open"}"#) == 2
                && (Self.value(body, #"presence_messages_total{direction="in"}"#) ?? 0) >= 7
        }
        #expect(published, "metrics never showed the close:\n\(body)")
        #expect(Self.value(body, #"presence_sign_ins_total{method="password",result="ok"}"#) == 2)
        #expect(Self.value(body, #"presence_sign_ins_total{method="password",result="refused"}"#) == 1)
        #expect(Self.value(body, #"presence_sign_ins_total{method="token",result="ok"}"#) == 0)
        #expect(Self.value(body, #"presence_sessions{device="desktop"}"#) == 1)
        #expect((Self.value(body, #"presence_messages_total{direction="in"}"#) ?? 0) >= 7)
        #expect((Self.value(body, #"presence_messages_total{direction="out"}"#) ?? 0) > 0)
        #expect((Self.value(body, #"presence_message_bytes_total{direction="in"}"#) ?? 0) > 0)
        #expect((Self.value(body, #"presence_message_bytes_total{direction="out"}"#) ?? 0) > 0)
        // Alice's and the refused connection's WebSockets are still open.
        #expect(Self.value(body, #"presence_connections{state="open"}"#) == 2)
        #expect((Self.value(body, "presence_fanout_seconds_count") ?? 0) > 0)
        #expect((Self.value(body, "presence_storage_commit_seconds_count") ?? 0) > 0)
        #expect(Self.value(body, "presence_core_sessions") != nil)
        // Every shard reports its own sessions; together they are the core's.
        let shards = g.gateway.runtime.presence.count
        let perShard = (0..<shards).compactMap { Self.value(body, #"presence_shard_sessions{shard="\#($0)"}"#) }
        #expect(perShard.count == shards)
        #expect(perShard.reduce(0, +) == Self.value(body, "presence_core_sessions"))
        #expect(Self.value(body, #"presence_shard_backlog{shard="0"}"#) != nil)
        #expect(body.contains("# TYPE presence_fanout_seconds histogram"))
        #expect(body.contains(#"presence_fanout_seconds_bucket{le="+Inf"}"#))
        _ = alice
        _ = wrong
    }

    @Test func metricsEndpointServesPrometheusTextWithOutboxDepth() throws {
        let registry = PrometheusCollectorRegistry()
        let g = try RunningGateway { $0.metricsRegistry = registry }
        let sampled = try g.eventually(5) { Self.value(try Self.scrape(g).body, "presence_outbox_depth") != nil }
        #expect(sampled)
        let r = try Self.scrape(g)
        #expect(r.status == 200)
        #expect(r.contentType?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(Self.value(r.body, "presence_outbox_depth") == 0)
        #expect(r.body.contains("# TYPE presence_messages_total counter"))
    }

    @Test func metricsWithoutARegistryAnswer404() throws {
        let g = try RunningGateway()
        #expect(try Self.scrape(g).status == 404)
    }
}
