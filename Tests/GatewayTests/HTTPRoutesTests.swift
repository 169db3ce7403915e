import Foundation
import PresenceClient
import Testing

/// The gateway's public HTTP routes as a client sees them over a real socket: wrong methods,
/// unknown paths and plain requests to WebSocket routes, each answered with the documented
/// status and a JSON error body (Protocol/README.md §10, Protocol/openapi.yaml).
@Suite struct HTTPRoutesTests {
    /// Sends one request and reads the answer; the body decoded as a JSON object.
    static func request(_ g: RunningGateway, _ method: String, _ path: String, extraHeaders: String = "")
        throws -> (status: Int, headers: [String: String], json: [String: Any])
    {
        let c = try WebSocketClient(port: g.port, timeoutSeconds: 15)
        try c.write("\(method) \(path) HTTP/1.1\r\nHost: x\r\n\(extraHeaders)Content-Length: 0\r\nConnection: close\r\n\r\n")
        let r = try c.readHTTPResponse()
        let json = (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any] ?? [:]
        #expect(r.headers["content-type"] == "application/json", "\(method) \(path): \(r.body)")
        return (r.status, r.headers, json)
    }

    @Test(arguments: [
        ("GET", "/v1/accounts"), ("PUT", "/v1/accounts"), ("DELETE", "/v1/accounts"),
        ("GET", "/v1/password-reset"), ("PUT", "/v1/password-reset"), ("DELETE", "/v1/password-reset"),
        ("GET", "/v1/password-reset/confirm"), ("PUT", "/v1/password-reset/confirm"), ("DELETE", "/v1/password-reset/confirm"),
    ])
    func wrongMethodOnAPostEndpointIs405WithAllow(_ method: String, _ path: String) throws {
        let g = try RunningGateway()
        let r = try Self.request(g, method, path)
        #expect(r.status == 405)
        #expect(r.headers["allow"] == "POST")
        #expect(r.json["code"] as? String == "method_not_allowed")
        #expect(r.json["message"] is String)
    }

    @Test func wrongMethodOnTheHealthAndResetPagesIs405() throws {
        let g = try RunningGateway()
        let health = try Self.request(g, "POST", "/healthz")
        #expect(health.status == 405)
        #expect(health.headers["allow"] == "GET, HEAD")
        #expect(try Self.request(g, "DELETE", "/readyz").headers["allow"] == "GET")
        #expect(try Self.request(g, "POST", "/reset").headers["allow"] == "GET")
    }

    /// The web client's routes (schemathesis found TRACE answered 404): the page, its files
    /// and the client configuration take GET only.
    @Test(arguments: [("TRACE", "/"), ("POST", "/"), ("DELETE", "/app.js"), ("TRACE", "/v1/client-config")])
    func wrongMethodOnTheWebClientRoutesIs405(_ method: String, _ path: String) throws {
        let g = try RunningGateway()
        let r = try Self.request(g, method, path)
        #expect(r.status == 405)
        #expect(r.headers["allow"] == "GET")
        // Positive control: GET is served.
        let c = try WebSocketClient(port: g.port, timeoutSeconds: 15)
        try c.write("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(try c.readHTTPResponse().status == 200)
    }

    /// Positive control: the same paths with the right method are not refused.
    @Test func theRightMethodIsNotRefused() throws {
        let g = try RunningGateway()
        // An empty body is a bad request, not a wrong method.
        let signUp = try Self.request(g, "POST", "/v1/accounts", extraHeaders: "Content-Type: application/json\r\n")
        #expect(signUp.status == 400)
        #expect(signUp.json["code"] as? String == "malformed_json")
        #expect(try Self.request(g, "GET", "/healthz").status == 200)
    }

    @Test func unknownPathIs404InJSON() throws {
        let g = try RunningGateway()
        let r = try Self.request(g, "GET", "/v2/nothing")
        #expect(r.status == 404)
        #expect(r.json["code"] as? String == "not_found")
        #expect(r.headers["allow"] == nil)
    }

    @Test func upgradeToAnUnknownPathIs404InJSON() throws {
        let g = try RunningGateway()
        let c = try WebSocketClient(port: g.port, timeoutSeconds: 15)
        #expect(throws: WebSocketClient.Failure.refused(404)) { try c.upgrade(path: "/nowhere") }
        let c2 = try WebSocketClient(port: g.port, timeoutSeconds: 15)
        try c2.write("GET /nowhere HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: \(WebSocketClient.key)\r\nSec-WebSocket-Version: 13\r\n\r\n")
        let r = try c2.readHTTPResponse()
        #expect(r.headers["content-type"] == "application/json")
        let json = (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any]
        #expect(json?["code"] as? String == "not_found")
    }

    @Test func plainRequestToTheWebSocketRouteIs426InJSON() throws {
        let g = try RunningGateway()
        let r = try Self.request(g, "GET", "/ws")
        #expect(r.status == 426)
        #expect(r.headers["upgrade"] == "websocket")
        #expect(r.json["code"] as? String == "upgrade_required")
    }

    @Test func declaredBodyOverTheLimitIs413InJSON() throws {
        let g = try RunningGateway()
        let c = try WebSocketClient(port: g.port, timeoutSeconds: 15)
        try c.write("POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 70000\r\n\r\n")
        let r = try c.readHTTPResponse()
        #expect(r.status == 413)
        #expect(r.headers["content-type"] == "application/json")
        let json = (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any]
        #expect(json?["code"] as? String == "request_too_large")
    }
}
