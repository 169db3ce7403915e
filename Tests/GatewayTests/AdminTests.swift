import Foundation
@testable import Gateway
import PresenceClient
import Testing

/// The token-protected operator endpoints on a running gateway, and presencectl over them.
@Suite(.serialized) struct AdminTests {
    static let token = "test-admin-token-0123456789"

    func get(_ g: RunningGateway, _ method: String, _ path: String, token: String? = AdminTests.token) throws -> (Int, [String: Any]) {
        let c = try WebSocketClient(port: g.port)
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

    @Test func wrongOrMissingTokenIs401AndNoConfiguredTokenIs404() throws {
        let g = try RunningGateway { $0.adminToken = Self.token }
        #expect(try get(g, "GET", "/admin/sessions", token: "guess-guess-guess-guess").0 == 401)
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
            p.arguments = arguments + ["--url", "http://127.0.0.1:\(g.port)"]
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
