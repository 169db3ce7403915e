import Accounts
import Foundation
@testable import Gateway
import Presence
import PresenceClient
import Storage

/// A real gateway on an ephemeral loopback port with its own SQLite file and mail spool,
/// stopped when the test ends.
final class RunningGateway {
    let gateway: Gateway
    let directory: URL
    /// Leave the data directory behind at the end, for a gateway restarted on it.
    var keepsDirectory = false
    var port: Int { gateway.ports[0] }
    /// The operator listener's port (`/metrics`, `/admin/…`); port 0 in tests, so gateways
    /// running side by side never collide on 9090.
    var operatorPort: Int { gateway.operatorPort ?? 0 }
    var spool: URL { directory.appendingPathComponent("mail") }
    var databasePath: String { directory.appendingPathComponent("presence.sqlite3").path }

    static let password = "Correct#Horse9"

    /// - Parameter directory: the data directory; a fresh one when `nil`. Pass an earlier
    ///   gateway's (with `keepsDirectory` set) to restart on its database.
    init(directory: URL? = nil, _ configure: (inout GatewayConfiguration) -> Void = { _ in }) throws {
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString)")
        var config = GatewayConfiguration()
        config.server.endpoints = [.init(host: "127.0.0.1", port: 0)]
        config.operatorListener = .init(host: "127.0.0.1", port: 0)
        config.dataDirectory = self.directory.path
        // Cheap scrypt: these tests are about behaviour, not hashing cost.
        config.passwordHasher = PasswordHasher(parameters: ScryptParameters(logN: 10, r: 8, p: 1))
        config.presence.debounce = .zero
        config.server.shutdownGraceMilliseconds = 500
        configure(&config)
        gateway = try Gateway(configuration: config)
        gateway.start()
    }

    deinit {
        gateway.shutdown()
        if !keepsDirectory { try? FileManager.default.removeItem(at: directory) }
    }

    /// `POST path` with a JSON body. - Returns: status and decoded body.
    func post(_ path: String, _ body: [String: Any]) throws -> (status: Int, body: [String: Any]) {
        let c = try WebSocketClient(port: port, timeoutSeconds: 15)
        let data = try JSONSerialization.data(withJSONObject: body)
        try c.write("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(data.count)\r\nConnection: close\r\n\r\n")
        try c.write(Array(data))
        let r = try c.readHTTPResponse()
        let object = (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any] ?? [:]
        return (r.status, object)
    }

    /// Creates an account through the HTTP sign-up endpoint.
    func signUp(_ name: String, offlineEmail: Bool = false) throws {
        let r = try post("/v1/accounts", ["email": "\(name)@example.com", "password": Self.password,
                                          "firstName": name.capitalized, "lastName": "Test", "offlineEmail": offlineEmail])
        precondition(r.status == 201, "sign-up failed: \(r)")
    }

    /// Connects and signs in with the password. - Returns: the connection and the reply.
    func signIn(_ name: String, device: String = "desktop", staySignedIn: Bool = false) throws -> (PresenceConnection, [String: Any]) {
        let c = try PresenceConnection(port: port, timeoutSeconds: 15)
        let reply = try c.call("signIn", ["method": "password", "email": "\(name)@example.com", "password": Self.password,
                                          "device": device, "staySignedIn": staySignedIn])
        precondition(reply["type"] as? String == "ok", "sign-in failed: \(reply)")
        return (c, reply)
    }

    /// Makes `a` and `b` accepted contacts, both signed in on the given connections.
    func befriend(_ a: (PresenceConnection, String), _ b: (PresenceConnection, String)) throws {
        _ = try a.0.call("requestContact", ["user": "\(b.1)@example.com"])
        _ = try b.0.event("contactRequest")
        _ = try b.0.call("acceptContact", ["user": "\(a.1)@example.com"])
        _ = try a.0.event("contactAdded")
        _ = try b.0.event("contactAdded")
    }

    /// The .eml files in the spool, oldest first.
    func mails() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: spool.path))?.filter { $0.hasSuffix(".eml") }.sorted() ?? []
        return names.compactMap { try? String(contentsOf: spool.appendingPathComponent($0), encoding: .utf8) }
    }

    /// Waits (bounded) until `condition` holds.
    func eventually(_ seconds: Double = 5, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }
}
