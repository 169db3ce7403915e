import Foundation
import PresenceClient
import Testing
@testable import Transport
import WebSocket

/// Behind a trusted reverse proxy, over real loopback sockets: requests and WebSockets are
/// the forwarded client's, and the per-address connection limit counts clients, not the proxy.
/// The tests' own connections come from 127.0.0.1, which plays the proxy.
@Suite struct ForwardedClientTests {
    /// Answers `GET /client` with the client address the transport gave the request and
    /// the loop's count of malformed headers; a WebSocket on `/echo` is first sent the
    /// address the loop holds for it.
    final class ClientAddressHandler: ConnectionHandler {
        func handle(_ request: HTTPRequest, id: ConnectionID, on loop: EventLoop) -> HTTPResponse? {
            .text(200, "\(request.remoteAddress) \(loop.traffic.malformedForwardedFor)")
        }

        func route(_ head: HTTPRequestHead, remoteAddress: String) -> UpgradeDecision {
            .accept(policy: Handshake.Policy(), limits: MessageLimits(maxFrameSize: 1024, maxMessageSize: 1024), route: 1)
        }

        func opened(_ id: ConnectionID, route: Int, subprotocol: String?, on loop: EventLoop) {
            Array((loop.remoteAddress(id) ?? "none").utf8).withUnsafeBytes { loop.send(id, opcode: .text, payload: $0) }
        }

        func received(_ id: ConnectionID, opcode: Opcode, payload: UnsafeRawBufferPointer, on loop: EventLoop) {}
        func closed(_ id: ConnectionID, code: CloseCode, on loop: EventLoop) {}
    }

    static func server(trusting proxies: [String], maxPerAddress: Int = 100) throws -> RunningServer {
        try RunningServer(configure: {
            $0.trustedProxies = TrustedProxies(parsing: proxies)!
            $0.maxConnectionsPerAddress = maxPerAddress
        }, handler: { _ in ClientAddressHandler() })
    }

    static func client(_ s: RunningServer, forwardedFor: String?) throws -> String {
        let c = try WebSocketClient(port: s.port)
        try c.write("GET /client HTTP/1.1\r\nHost: x\r\n" + (forwardedFor.map { "X-Forwarded-For: \($0)\r\n" } ?? "") + "\r\n")
        let r = try c.readHTTPResponse()
        #expect(r.status == 200)
        return r.body.trimmingCharacters(in: .newlines)
    }

    @Test func trustedProxyNamesTheClientAndTheClientsOwnPrefixIsIgnored() throws {
        let s = try Self.server(trusting: ["127.0.0.1"])
        #expect(try Self.client(s, forwardedFor: "203.0.113.5") == "203.0.113.5 0")
        #expect(try Self.client(s, forwardedFor: "198.51.100.1, 127.0.0.1, 203.0.113.5") == "203.0.113.5 0")
        #expect(try Self.client(s, forwardedFor: nil) == "127.0.0.1 0")
    }

    @Test func untrustedPeerKeepsItsOwnAddress() throws {
        // The control: the same request from a peer that is not trusted.
        let s = try Self.server(trusting: ["10.0.0.0/8"])
        #expect(try Self.client(s, forwardedFor: "203.0.113.5") == "127.0.0.1 0")
        let none = try RunningServer(handler: { _ in ClientAddressHandler() })
        #expect(try Self.client(none, forwardedFor: "203.0.113.5") == "127.0.0.1 0")
    }

    @Test func malformedHeaderFromATrustedProxyIsThePeerAndCounted() throws {
        let s = try Self.server(trusting: ["127.0.0.1"])
        #expect(try Self.client(s, forwardedFor: "203.0.113.5:80") == "127.0.0.1 1")
        #expect(try Self.client(s, forwardedFor: "203.0.113.5") == "203.0.113.5 1")
    }

    /// Keep-alive: one proxy connection carries two clients' requests, each its own.
    @Test func eachRequestOnAKeptAliveConnectionIsItsOwnClient() throws {
        let s = try Self.server(trusting: ["127.0.0.1"])
        let c = try WebSocketClient(port: s.port)
        for client in ["203.0.113.5", "203.0.113.6"] {
            try c.write("GET /client HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: \(client)\r\n\r\n")
            #expect(try c.readHTTPResponse().body == "\(client) 0\n")
        }
    }

    @Test func webSocketBelongsToTheForwardedClient() throws {
        let s = try Self.server(trusting: ["127.0.0.1"])
        let c = try WebSocketClient(port: s.port)
        try c.upgrade(extraHeaders: "X-Forwarded-For: 203.0.113.5\r\n")
        #expect(try c.receive() == .text("203.0.113.5"))
    }

    /// The limit applies per forwarded client at upgrade: a third WebSocket for one client is
    /// refused (the control that the limit triggers) while another client behind the same
    /// proxy still gets in, the proxy holding more than the limit itself; a closed one frees
    /// its client's place.
    @Test func perAddressLimitCountsForwardedClientsNotTheProxy() throws {
        let s = try Self.server(trusting: ["127.0.0.1"], maxPerAddress: 2)
        let a1 = try WebSocketClient(port: s.port)
        try a1.upgrade(extraHeaders: "X-Forwarded-For: 203.0.113.5\r\n")
        let a2 = try WebSocketClient(port: s.port)
        try a2.upgrade(extraHeaders: "X-Forwarded-For: 203.0.113.5\r\n")
        let a3 = try WebSocketClient(port: s.port)
        try a3.write("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Forwarded-For: 203.0.113.5\r\n"
            + "Sec-WebSocket-Key: \(WebSocketClient.key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
        expectJSONError(try a3.readHTTPResponse(), 503, "server_busy")
        // A spoofed prefix does not make it someone else.
        let a4 = try WebSocketClient(port: s.port)
        #expect(throws: WebSocketClient.Failure.refused(503)) {
            try a4.upgrade(extraHeaders: "X-Forwarded-For: 198.51.100.9, 203.0.113.5\r\n")
        }
        let b = try WebSocketClient(port: s.port)
        try b.upgrade(extraHeaders: "X-Forwarded-For: 203.0.113.6\r\n")
        #expect(try b.receive() == .text("203.0.113.6"))

        try a1.send(.close, [0x03, 0xE8])
        _ = try? a1.receive()
        #expect(a1.serverClosedConnection())
        var admitted = false
        for _ in 0..<50 where !admitted {  // the close is counted on the loop, just after
            let again = try WebSocketClient(port: s.port)
            admitted = (try? again.upgrade(extraHeaders: "X-Forwarded-For: 203.0.113.5\r\n")) != nil
            if !admitted { Thread.sleep(forTimeInterval: 0.02) }
        }
        #expect(admitted)
    }

    /// Without trust, the limit counts the peer: the control showing the proxy would
    /// otherwise lump every client together.
    @Test func untrustedPeerIsLimitedAsOneAddress() throws {
        let s = try Self.server(trusting: [], maxPerAddress: 2)
        let a = try WebSocketClient(port: s.port)
        try a.upgrade(extraHeaders: "X-Forwarded-For: 203.0.113.5\r\n")
        let b = try WebSocketClient(port: s.port)
        try b.upgrade(extraHeaders: "X-Forwarded-For: 203.0.113.6\r\n")
        let c = try WebSocketClient(port: s.port)
        expectJSONError(try c.readHTTPResponse(), 503, "server_busy")
    }
}
