import Foundation
import Testing
@testable import Transport
import PresenceClient

/// Checks a transport error answer: the status, and a JSON body in the one documented
/// error shape `{"code":…,"message":…}` (Protocol/README.md §10), never text/plain.
func expectJSONError(_ r: (status: Int, headers: [String: String], body: String), _ status: Int, _ code: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(r.status == status, sourceLocation: sourceLocation)
    #expect(r.headers["content-type"] == "application/json", sourceLocation: sourceLocation)
    let object = (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any]
    #expect(object?["code"] as? String == code, "body: \(r.body)", sourceLocation: sourceLocation)
    #expect((object?["message"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
    #expect(Set(object?.keys.map { $0 } ?? []) == ["code", "message"], sourceLocation: sourceLocation)
}

/// Plain HTTP and refused upgrades over a real socket.
@Suite struct HTTPTests {
    @Test func healthzAnswers200AndKeepsTheConnectionAlive() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try c.readHTTPResponse().status == 200)
        let second = try c.readHTTPResponse()
        #expect(second.status == 200)
        #expect(second.body == "ok\n")
    }

    @Test func unknownPathIs404() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.write("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(try c.readHTTPResponse().status == 404)
        #expect(c.serverClosedConnection())
    }

    @Test func plainGetOfTheEchoRouteIs426() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.write("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try c.readHTTPResponse().status == 426)
    }

    @Test func wrongWebSocketVersionIs426WithVersion13() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.write("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(WebSocketClient.key)\r\nSec-WebSocket-Version: 8\r\n\r\n")
        let r = try c.readHTTPResponse()
        expectJSONError(r, 426, "unsupported_websocket_version")
        #expect(r.headers["sec-websocket-version"] == "13")
        #expect(c.serverClosedConnection())
    }

    @Test func forbiddenOriginIs403() throws {
        let s = try RunningServer(handler: { _ in EchoHandler(allowedOrigins: ["https://app.example.com"]) })
        let c = try WebSocketClient(port: s.port)
        try c.write("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: https://evil.example\r\n"
            + "Sec-WebSocket-Key: \(WebSocketClient.key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
        expectJSONError(try c.readHTTPResponse(), 403, "origin_not_allowed")
    }

    @Test func oversizedHeadIs431() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.write("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 9000) + "\r\n\r\n")
        expectJSONError(try c.readHTTPResponse(), 431, "request_head_too_large")
    }

    @Test func garbageIs400() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.write([0x16, 0x03, 0x01, 0x00])
        expectJSONError(try c.readHTTPResponse(), 400, "bad_request")
    }

    @Test func incompleteRequestTimesOutWith408() throws {
        let s = try RunningServer(configure: { $0.requestTimeoutMilliseconds = 300 })
        let c = try WebSocketClient(port: s.port)
        try c.write("GET /healthz HTTP/1.1\r\nHost: x\r\n")
        expectJSONError(try c.readHTTPResponse(), 408, "request_timeout")
        #expect(c.serverClosedConnection())
    }

    @Test func connectionsOverTheLimitGet503() throws {
        let s = try RunningServer(configure: { $0.maxConnectionsPerAddress = 2 })
        let a = try WebSocketClient(port: s.port)
        let b = try WebSocketClient(port: s.port)
        try a.upgrade()
        try b.upgrade()
        let c = try WebSocketClient(port: s.port)
        let r = try c.readHTTPResponse()
        expectJSONError(r, 503, "server_busy")
        #expect(r.headers["retry-after"] == "5")
    }

    @Test func declaredBodyOverTheLimitIs413InJSON() throws {
        let s = try RunningServer(configure: { $0.maxRequestBodySize = 100 })
        let c = try WebSocketClient(port: s.port)
        try c.write("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n")
        expectJSONError(try c.readHTTPResponse(), 413, "request_too_large")
        #expect(c.serverClosedConnection())
    }

    /// Requests pipelined behind one whose answer is deferred pile up in the connection;
    /// past the head and body limits together they are refused, in JSON too.
    /// A client that sends its whole oversize body before reading (as most do) still reads
    /// the 413: the server lingers after refusing, discarding the body, instead of closing
    /// with unread input and resetting the connection under the client's feet.
    @Test func clientStillSendingAnOversizeBodyReads413() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        let body = [UInt8](repeating: 0x61, count: 16 << 20)
        try c.write(Array("POST /later HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        expectJSONError(try c.readHTTPResponse(), 413, "request_too_large")
        #expect(c.serverClosedConnection())
    }

    @Test func pipelinedBytesPastTheLimitsAre413InJSON() throws {
        let s = try RunningServer(configure: { $0.maxRequestHeadSize = 1024; $0.maxRequestBodySize = 100 })
        let c = try WebSocketClient(port: s.port)
        try c.write("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
        // 116 bytes each: the tenth passes 1024 + 100 (and nothing is sent after it).
        for _ in 0..<10 {
            Thread.sleep(forTimeInterval: 0.01)
            try c.write("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + String(repeating: "a", count: 70) + "\r\n\r\n")
        }
        expectJSONError(try c.readHTTPResponse(), 413, "request_too_large")
    }

    /// Chunked request bodies are decoded (RFC 9112 §7.1), also when they arrive in pieces.
    @Test func chunkedBodyIsDecoded() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        let request = "POST /later HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n"
        for piece in stride(from: 0, to: request.utf8.count, by: 7) {
            let bytes = Array(request.utf8)
            try c.write(Array(bytes[piece..<min(piece + 7, bytes.count)]))
        }
        let r = try c.readHTTPResponse()
        #expect(r.status == 200)
        #expect(r.body == "hello, world")
        // An empty chunked body too, on the same connection.
        try c.write("POST /later HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        let empty = try c.readHTTPResponse()
        #expect(empty.status == 200)
        #expect(empty.body == "")
    }

    @Test func chunkedBodyRefusalsAreJSON() throws {
        let s = try RunningServer(configure: { $0.maxRequestBodySize = 10 })
        let big = try WebSocketClient(port: s.port)
        try big.write("POST /later HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n")
        expectJSONError(try big.readHTTPResponse(), 413, "request_too_large")
        let both = try WebSocketClient(port: s.port)
        try both.write("POST /later HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n")
        expectJSONError(try both.readHTTPResponse(), 400, "bad_request")
        let gzip = try WebSocketClient(port: s.port)
        try gzip.write("POST /later HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
        expectJSONError(try gzip.readHTTPResponse(), 501, "not_implemented")
        let bad = try WebSocketClient(port: s.port)
        try bad.write("POST /later HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        expectJSONError(try bad.readHTTPResponse(), 400, "bad_request")
    }

    @Test func upgradeWithPostIs405WithAllowInJSON() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.write("POST /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(WebSocketClient.key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
        let r = try c.readHTTPResponse()
        expectJSONError(r, 405, "method_not_allowed")
        #expect(r.headers["allow"] == "GET")
    }

    @Test func badUpgradeKeyIs400InJSON() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.write("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n")
        expectJSONError(try c.readHTTPResponse(), 400, "bad_handshake")
    }

    /// Every byte of the head in its own write: the server must still assemble it (and,
    /// with `HTTPHeadScanner`, look at each byte once; the unit tests count that).
    @Test func headArrivingAByteAtATimeIsAnswered() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        let request = Array(("GET /healthz HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-Pad: 0123456789\r\n", count: 40)
            + "\r\n").utf8)
        for byte in request { try c.write([byte]) }
        let r = try c.readHTTPResponse()
        #expect(r.status == 200)
        #expect(r.body == "ok\n")
        // The connection is still usable: the scan state was reset for the next request.
        for byte in Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8) { try c.write([byte]) }
        #expect(try c.readHTTPResponse().status == 200)
    }

    @Test func bodyArrivingAByteAtATimeIsDelivered() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        let body = String(repeating: "b", count: 300)
        let request = Array("POST /later HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\n\r\n\(body)".utf8)
        for byte in request { try c.write([byte]) }
        let r = try c.readHTTPResponse()
        #expect(r.status == 200)
        #expect(r.body == body)
    }
}


@Suite struct DeferredResponseTests {
    @Test func deferredAnswerArrivesAndPipelinedRequestsWaitForIt() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.write("POST /later HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nfirstGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = try c.readHTTPResponse()
        #expect(first.status == 200)
        #expect(first.body == "first")
        #expect(try c.readHTTPResponse().body == "ok\n")
    }

    /// A deferred answer may take longer than the phase the connection was in when its
    /// timer was filed (the request timeout from accept, or a keep-alive window). When
    /// that timer fired, the connection, which has no deadline while it waits, was filed
    /// again at `Int64.max` and the tick arithmetic overflowed: the whole server trapped
    /// (seen in the browser tests as "Failed to fetch" after a slow sign-up on a reused
    /// connection). Crashed this test process before the fix.
    @Test func anAnswerSlowerThanTheRequestTimeoutArrivesAndTheConnectionLives() throws {
        let s = try RunningServer(configure: { $0.requestTimeoutMilliseconds = 200 })
        let c = try WebSocketClient(port: s.port)
        try c.write("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        let slow = try c.readHTTPResponse()
        #expect(slow.status == 200)
        #expect(slow.body == "slow\n")
        // The same connection, kept alive, serves the next request.
        try c.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try c.readHTTPResponse().body == "ok\n")
    }
}
