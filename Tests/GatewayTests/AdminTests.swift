import Foundation
import TLSTestSupport
@testable import Gateway
import PresenceClient
import Testing

/// The token-protected operator endpoints on a running gateway, and presencectl over them.
@Suite(.serialized) struct AdminTests {
    static let token = "test-admin-token-0123456789"

    /// A request to the operator listener (or, with `publicPort`, to the public one).
    func get(_ g: RunningGateway, _ method: String, _ path: String, token: String? = AdminTests.token,
             publicPort: Bool = false) throws -> (Int, [String: Any]) {
        let c = try WebSocketClient(port: publicPort ? g.port : g.operatorPort)
        let auth = token.map { "Authorization: Bearer \($0)\r\n" } ?? ""
        try c.write("\(method) \(path) HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: 0\r\nConnection: close\r\n\r\n")
        let r = try c.readHTTPResponse()
        return (r.status, (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any] ?? [:])
    }

    @Test func sessionsAreListedExplainedAndKickable() throws {
        let g = try RunningGateway { $0.adminToken = Self.token }
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, bobReply) = try g.signIn("bob", device: "mobile")
        try g.befriend((alice, "alice"), (bob, "bob"))
        _ = try alice.call("setStatus", ["status": "busy"])

        let (status, list) = try get(g, "GET", "/admin/sessions")
        #expect(status == 200)
        let sessions = try #require(list["sessions"] as? [[String: Any]])
        #expect(Set(sessions.compactMap { $0["user"] as? String }) == ["alice@example.com", "bob@example.com"])

        let (_, why) = try get(g, "GET", "/admin/presence?user=alice%40example.com")
        #expect(why["seenByContacts"] as? String == "busy")
        #expect((why["rule"] as? String ?? "").contains("chose Busy"))
        let (_, mobile) = try get(g, "GET", "/admin/presence?user=bob@example.com")
        #expect(mobile["seenByContacts"] as? String == "mobile")
        #expect((mobile["rule"] as? String ?? "").contains("only mobile"))

        let bobSession = try #require(bobReply["session"] as? String)
        #expect(try get(g, "POST", "/admin/sessions/\(bobSession)/kick").0 == 200)
        var closed: PresenceConnection.Closed?
        do { while true { _ = try bob.next() } } catch let c as PresenceConnection.Closed { closed = c }
        #expect(closed?.code == 4000)
        _ = try alice.event("presence") { $0["user"] as? String == "bob@example.com" && $0["status"] as? String == "offline" }
    }

    /// The operator surface is not on the public listener at all: with the right token,
    /// `/admin/…` and `/metrics` answer 404 there, while the operator listener serves them.
    @Test func thePublicListenerHasNoOperatorSurface() throws {
        let g = try RunningGateway { $0.adminToken = Self.token; $0.metricsRegistry = .init() }
        let (onPublic, body) = try get(g, "GET", "/admin/sessions", publicPort: true)
        #expect(onPublic == 404)
        #expect(body["code"] as? String == "not_found")
        #expect(try get(g, "POST", "/admin/sessions/1/kick", publicPort: true).0 == 404)
        #expect(try get(g, "GET", "/metrics", publicPort: true).0 == 404)
        // Positive control: the same requests on the operator listener.
        #expect(try get(g, "GET", "/admin/sessions").0 == 200)
        let c = try WebSocketClient(port: g.operatorPort)
        try c.write("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(try c.readHTTPResponse().status == 200)
        // And the public routes are not on the operator listener.
        let signUp = try WebSocketClient(port: g.operatorPort)
        try signUp.write("POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(try signUp.readHTTPResponse().status == 404)
        let upgrade = try WebSocketClient(port: g.operatorPort)
        #expect(throws: WebSocketClient.Failure.refused(404)) { try upgrade.upgrade(path: "/ws") }
    }

    @Test func theOperatorListenerCanBeAUnixSocket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("op-\(UUID().uuidString.prefix(8)).sock").path
        defer { unlink(path) }
        let g = try RunningGateway { $0.adminToken = Self.token; $0.operatorListener = .init(unixPath: path) }
        let c = try WebSocketClient(unixPath: path)
        try c.write("GET /admin/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(Self.token)\r\nConnection: close\r\n\r\n")
        let r = try c.readHTTPResponse()
        #expect(r.status == 200)
        #expect(r.body.contains("\"sessions\""))
        #expect(g.operatorPort == 0)
        #expect(try get(g, "GET", "/admin/sessions", publicPort: true).0 == 404)
    }

    @Test func wrongOrMissingTokenIs401AndNoConfiguredTokenIs404() throws {
        let g = try RunningGateway { $0.adminToken = Self.token }
        #expect(try get(g, "GET", "/admin/sessions", token: "guess-guess-guess-guess").0 == 401)
        // The refusal is a JSON error like every other, with its challenge.
        let c = try WebSocketClient(port: g.operatorPort)
        try c.write("GET /admin/sessions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let r = try c.readHTTPResponse()
        #expect(r.headers["content-type"] == "application/json")
        #expect(r.headers["www-authenticate"] == "Bearer")
        #expect(r.body.contains(#""code":"unauthorized""#))
        #expect(try get(g, "GET", "/admin/sessions", token: nil).0 == 401)
        let off = try RunningGateway()
        #expect(try get(off, "GET", "/admin/sessions").0 == 404)
    }

    @Test func presencectlListsSessionsAndExplainsPresence() throws {
        let g = try RunningGateway { $0.adminToken = Self.token }
        try g.signUp("alice")
        let (alice, _) = try g.signIn("alice", device: "web")
        _ = alice
        let ctl = try BuiltProduct("presencectl")
        func run(_ arguments: [String]) throws -> String {
            let p = Process()
            p.executableURL = ctl.url
            p.arguments = arguments + ["--url", "http://127.0.0.1:\(g.operatorPort)"]
            p.environment = BuiltProduct.cleanEnvironment(["PRESENCE_ADMIN_TOKEN": Self.token])
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            return String(decoding: data, as: UTF8.self)
        }
        #expect(try run(["sessions", "list"]).contains("alice@example.com"))
        let why = try run(["presence", "why", "alice@example.com"])
        #expect(why.contains("contacts see online"))
        #expect(why.contains("a desktop or web session is active"))
    }
}

/// presencectl over TLS and a unix socket: an `https://` URL is verified (the chain against
/// `--ca-file` or the system store, the URL's host against the certificate).
@Suite(.serialized) struct PresencectlTransportTests {
    /// Runs presencectl. - Returns: exit status, standard output and standard error.
    static func presencectl(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let p = Process()
        p.executableURL = try BuiltProduct("presencectl").url
        p.arguments = arguments
        p.environment = BuiltProduct.cleanEnvironment(["PRESENCE_ADMIN_TOKEN": AdminTests.token])
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let error = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: output, as: UTF8.self), String(decoding: error, as: UTF8.self))
    }

    @Test func httpsIsVerifiedAgainstTheCAAndTheHostName() throws {
        // The certificate names localhost only, not 127.0.0.1.
        let authority = try TestCertificateAuthority(subjectAltName: "DNS:localhost")
        defer { authority.remove() }
        let g = try RunningGateway {
            $0.adminToken = AdminTests.token
            $0.server.tls = .init(certificatePath: authority.certificate, privateKeyPath: authority.key)
            $0.operatorListener = .init(host: "127.0.0.1", port: 0, isTLS: true)
        }
        try g.signUp("alice")
        let (alice, _) = try g.signIn("alice")
        _ = alice
        let port = g.operatorPort
        let trusted = try Self.presencectl(["sessions", "list", "--url", "https://localhost:\(port)", "--ca-file", authority.ca])
        #expect(trusted.status == 0, "\(trusted.error)")
        #expect(trusted.output.contains("alice@example.com"))
        // Not trusted: the test CA is not in the system store.
        let untrusted = try Self.presencectl(["sessions", "list", "--url", "https://localhost:\(port)"])
        #expect(untrusted.status != 0)
        #expect(untrusted.error.contains("TLS handshake failed"), "\(untrusted.error)")
        #expect(!untrusted.output.contains("alice@example.com"))
        // Trusted CA, wrong name: the certificate is not for 127.0.0.1.
        let wrongName = try Self.presencectl(["sessions", "list", "--url", "https://127.0.0.1:\(port)", "--ca-file", authority.ca])
        #expect(wrongName.status != 0)
        #expect(wrongName.error.contains("TLS handshake failed"), "\(wrongName.error)")
    }

    @Test func aUnixSocketURLReachesTheOperatorListener() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-\(UUID().uuidString.prefix(8)).sock").path
        defer { unlink(path) }
        let g = try RunningGateway { $0.adminToken = AdminTests.token; $0.operatorListener = .init(unixPath: path) }
        try g.signUp("alice")
        let (alice, _) = try g.signIn("alice")
        _ = alice
        let r = try Self.presencectl(["sessions", "list", "--url", "unix:\(path)"])
        #expect(r.status == 0, "\(r.error)")
        #expect(r.output.contains("alice@example.com"))
    }
}
