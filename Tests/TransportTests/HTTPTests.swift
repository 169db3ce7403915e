import Testing
@testable import Transport
import PresenceClient

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
        #expect(r.status == 426)
        #expect(r.headers["sec-websocket-version"] == "13")
        #expect(c.serverClosedConnection())
    }

    @Test func forbiddenOriginIs403() throws {
        let s = try RunningServer(handler: { _ in EchoHandler(allowedOrigins: ["https://app.example.com"]) })
        let c = try WebSocketClient(port: s.port)
        try c.write("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: https://evil.example\r\n"
            + "Sec-WebSocket-Key: \(WebSocketClient.key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
        #expect(try c.readHTTPResponse().status == 403)
    }

    @Test func oversizedHeadIs431() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.write("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 9000) + "\r\n\r\n")
        #expect(try c.readHTTPResponse().status == 431)
    }

    @Test func garbageIs400() throws {
        let s = try RunningServer()
        let c = try WebSocketClient(port: s.port)
        try c.write([0x16, 0x03, 0x01, 0x00])
        #expect(try c.readHTTPResponse().status == 400)
    }

    @Test func incompleteRequestTimesOutWith408() throws {
        let s = try RunningServer(configure: { $0.requestTimeoutMilliseconds = 300 })
        let c = try WebSocketClient(port: s.port)
        try c.write("GET /healthz HTTP/1.1\r\nHost: x\r\n")
        #expect(try c.readHTTPResponse().status == 408)
        #expect(c.serverClosedConnection())
    }

    @Test func connectionsOverTheLimitGet503() throws {
        let s = try RunningServer(configure: { $0.maxConnectionsPerAddress = 2 })
        let a = try WebSocketClient(port: s.port)
        let b = try WebSocketClient(port: s.port)
        try a.upgrade()
        try b.upgrade()
        let c = try WebSocketClient(port: s.port)
        #expect(try c.readHTTPResponse().status == 503)
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
}
