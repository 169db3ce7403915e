import Foundation
import PresenceClient
import Storage
import Testing

/// A rolling restart of the real `presenced` shows contacts nothing: SIGTERM, start again on
/// the same data directory, and users who sign in again within the disconnect grace never
/// look offline to their contacts. Only a user who does not come back is published offline.
@Suite(.serialized) struct RestartWithoutFlapTests {
    /// Short, so the user who never comes back is published within the test; long enough
    /// for an exit, a start and four sign-ins on a loaded machine.
    static let graceSeconds = 5
    static let names = ["alice", "bob", "carol", "dave", "erin"]

    final class Daemon {
        let running: BuiltProduct.Running
        let port: Int

        init(dataDirectory: String) throws {
            running = try BuiltProduct.Running(
                try BuiltProduct("presenced"),
                ["--port", "0", "--admin-listen", "off", "--data-dir", dataDirectory, "--debounce-ms", "0",
                 "--disconnect-grace-seconds", "\(RestartWithoutFlapTests.graceSeconds)", "--shutdown-grace-seconds", "1"],
                environment: BuiltProduct.cleanEnvironment())
            let portText = try #require(running.awaitError(matching: #"ports=(\d+)"#, seconds: 20),
                                        "no listening line: \(running.errorOutput)")
            port = try #require(Int(portText))
        }

        /// SIGTERM, then the exit status.
        func terminate() -> Int32? {
            kill(running.process.processIdentifier, SIGTERM)
            return running.waitForExit(seconds: 20)
        }
    }

    struct SignedIn {
        let connection: PresenceConnection
        let deviceToken: String
        let resumeToken: String
    }

    static func signIn(_ name: String, port: Int) throws -> SignedIn {
        let c = try PresenceConnection(port: port, timeoutSeconds: 10)
        let reply = try c.call("signIn", ["method": "password", "email": "\(name)@example.com",
                                          "password": DaemonTests.password, "device": "desktop", "staySignedIn": true])
        try #require(reply["type"] as? String == "ok", "sign-in of \(name): \(reply)")
        return SignedIn(connection: c, deviceToken: try #require(reply["deviceToken"] as? String),
                        resumeToken: try #require(reply["resumeToken"] as? String))
    }

    /// Signs in with the device token, as a client does after `unknown_session`.
    static func signIn(token: String, port: Int) throws -> (PresenceConnection, [String: Any]) {
        let c = try PresenceConnection(port: port, timeoutSeconds: 10)
        let reply = try c.call("signIn", ["method": "token", "deviceToken": token, "device": "desktop"])
        try #require(reply["type"] as? String == "ok", "token sign-in: \(reply)")
        return (c, try c.event("snapshot"))
    }

    static func contact(_ name: String, in snapshot: [String: Any]) -> [String: Any]? {
        (snapshot["contacts"] as? [[String: Any]])?.first { $0["user"] as? String == "\(name)@example.com" }
    }

    static func isPresence(_ event: [String: Any], of name: String) -> Bool {
        event["type"] as? String == "presence" && event["user"] as? String == "\(name)@example.com"
    }

    @Test func usersBackWithinTheGraceAfterSIGTERMShowContactsNothing() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("restart-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }

        // Before: Bob online, Carol busy, Dave hidden, Erin online; all Alice's contacts.
        let first = try Daemon(dataDirectory: directory.path)
        for name in Self.names { try DaemonTests.signUp(name, port: first.port) }
        var before: [String: SignedIn] = [:]
        for name in Self.names { before[name] = try Self.signIn(name, port: first.port) }
        let alice = before["alice"]!.connection
        for name in Self.names.dropFirst() {
            try DaemonTests.befriend(alice, "alice", before[name]!.connection, name)
        }
        #expect(try before["carol"]!.connection.call("setStatus", ["status": "busy"])["type"] as? String == "ok")
        #expect(try before["dave"]!.connection.call("setStatus", ["status": "hidden"])["type"] as? String == "ok")
        let carolBusy = try alice.event("presence") { Self.isPresence($0, of: "carol") }
        #expect(carolBusy["status"] as? String == "busy")
        let daveGone = try alice.event("presence") { Self.isPresence($0, of: "dave") }
        #expect(daveGone["status"] as? String == "offline")
        let daveLastSeen = try #require(daveGone["lastSeen"] as? Int)

        let signalled = Date()
        #expect(first.terminate() == 0, "\(first.running.errorOutput)")

        // What the drain kept: the public view, Hidden as offline with the moment Dave hid.
        do {
            let database = try Database(path: directory.appendingPathComponent("presence.sqlite3").path, migrate: false)
            let rows = try database.query("SELECT account_id, status, last_seen FROM shown_presence ORDER BY account_id") {
                "\($0.text(0)) \($0.text(1)) \($0.optionalInt64(2).map(String.init) ?? "-")"
            }
            #expect(rows == ["alice@example.com online -", "bob@example.com online -", "carol@example.com busy -",
                             "dave@example.com offline \(daveLastSeen)", "erin@example.com online -"])
        }

        let second = try Daemon(dataDirectory: directory.path)
        // Resume tokens died with the old process (documented): sign in with the device token.
        let stale = try PresenceConnection(port: second.port, timeoutSeconds: 10)
        let resumed = try stale.call("resume", ["resumeToken": before["bob"]!.resumeToken, "lastSeq": 0])
        #expect(resumed["type"] as? String == "error" && resumed["code"] as? String == "unknown_session", "\(resumed)")

        // Alice first: her snapshot shows what she saw before the restart.
        let (aliceAgain, snapshot) = try Self.signIn(token: before["alice"]!.deviceToken, port: second.port)
        #expect(Self.contact("bob", in: snapshot)?["status"] as? String == "online", "\(snapshot)")
        #expect(Self.contact("carol", in: snapshot)?["status"] as? String == "busy", "\(snapshot)")
        #expect(Self.contact("dave", in: snapshot)?["status"] as? String == "offline", "\(snapshot)")
        #expect(Self.contact("dave", in: snapshot)?["lastSeen"] as? Int == daveLastSeen, "\(snapshot)")
        #expect(Self.contact("erin", in: snapshot)?["status"] as? String == "online", "\(snapshot)")

        // Bob, Carol and Dave come back within the grace; Erin does not.
        var back: [PresenceConnection] = []
        for name in ["bob", "carol", "dave"] {
            back.append(try Self.signIn(token: before[name]!.deviceToken, port: second.port).0)
        }
        let allBack = Date()
        #expect(allBack.timeIntervalSince(signalled) < Double(Self.graceSeconds) + 3,
                "the restart took too long for the grace to carry it")

        // Positive control: Erin, who never came back, is published offline to Alice after
        // the grace, on the same connection that must see nothing about the others.
        let erinGone = try aliceAgain.event("presence") { Self.isPresence($0, of: "erin") }
        #expect(erinGone["status"] as? String == "offline")
        let erinLastSeen = try #require(erinGone["lastSeen"] as? Int)
        #expect(Double(erinLastSeen) / 1000 > signalled.timeIntervalSince1970, "last seen when the grace ended, not before the drain")
        #expect(Double(erinLastSeen) / 1000 <= Date().timeIntervalSince1970 + 1)

        // Everything Alice got up to a reply after Erin's event: nothing about Bob, Carol or Dave.
        #expect(try aliceAgain.call("heartbeat", ["lastSeq": 0])["type"] as? String == "ok")
        let others = aliceAgain.events.filter { event in ["bob", "carol", "dave"].contains { Self.isPresence(event, of: $0) } }
        #expect(others.isEmpty, "contacts saw a flap: \(others)")
        #expect(aliceAgain.events.allSatisfy { $0["type"] as? String != "presence" }, "\(aliceAgain.events)")

        // The rows were used once.
        let database = try Database(path: directory.appendingPathComponent("presence.sqlite3").path, migrate: false)
        #expect(try ShownPresenceStore(database).count() == 0)
        withExtendedLifetime(back) {}
        #expect(second.terminate() == 0, "\(second.running.errorOutput)")
    }
}
