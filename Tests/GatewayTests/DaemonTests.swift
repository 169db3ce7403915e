import Foundation
import PresenceClient
import Storage
import Synchronization
import Testing

/// The real `presenced` binary: its configuration sources and messages, and its drain on
/// SIGTERM, as an operator and a supervisor (systemd) see them.
@Suite(.serialized) struct DaemonTests {
    /// One mistake an operator can make, and the fragment the one-line message must hold.
    struct Mistake: Sendable, CustomTestStringConvertible {
        let name: String
        var arguments: [String] = []
        var environment: [String: String] = [:]
        /// Written to a temporary file passed with `--config`.
        var file: String?
        let message: String
        var testDescription: String { name }
    }

    static let mistakes: [Mistake] = [
        Mistake(name: "port out of range as a flag", arguments: ["--port", "70000"],
                message: #"port = "70000" (from --port): must be an integer in 0...65535"#),
        Mistake(name: "non-numeric port in the environment", environment: ["PRESENCE_PORT": "eighty"],
                message: #"port = "eighty" (from PRESENCE_PORT): must be an integer in 0...65535"#),
        Mistake(name: "bad boolean in the environment", environment: ["PRESENCE_ECHO": "maybe"],
                message: #"echo = "maybe" (from PRESENCE_ECHO): must be true or false"#),
        Mistake(name: "unknown key in the file", file: #"{"prot": 8080}"#,
                message: #""prot" in CONFIG is not a setting (did you mean "port"?"#),
        Mistake(name: "out-of-range value in the file", file: #"{"loops": 0}"#,
                message: #"loops = "0" (from CONFIG): must be an integer in 1...256"#),
        Mistake(name: "unknown log level in the file", file: #"{"log-level": "loud"}"#,
                message: #"log-level = "loud" (from CONFIG): must be one of trace, debug"#),
        Mistake(name: "list setting given a string in the file", file: #"{"allowed-origin": "https://a.example"}"#,
                message: #"allowed-origin = "https://a.example" (from CONFIG): must be an array of strings"#),
        Mistake(name: "file that is not JSON", file: "port = 8080",
                message: #"config = "CONFIG": must be a JSON object of settings"#),
        Mistake(name: "config file that does not exist", arguments: ["--config", "/nonexistent/presenced.json"],
                message: #"config = "/nonexistent/presenced.json": cannot be read (No such file or directory)"#),
        Mistake(name: "unreadable TLS certificate",
                arguments: ["--tls-port", "0", "--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"],
                message: #"tls-cert = "/nonexistent/cert.pem" (from --tls-cert): must be a readable PEM file (No such file or directory)"#),
        Mistake(name: "TLS port without certificate and key", environment: ["PRESENCE_TLS_PORT": "8443"],
                message: #"tls-port = "8443" (from PRESENCE_TLS_PORT): needs tls-cert and tls-key too"#),
        Mistake(name: "host that is not an address", arguments: ["--host", "example.org"],
                message: #"host = "example.org" (from --host): must be an IPv4 or IPv6 address literal"#),
        Mistake(name: "trusted proxy given as a host name", arguments: ["--trusted-proxy", "127.0.0.1", "--trusted-proxy", "nginx.local"],
                message: #"trusted-proxy = "nginx.local" (from --trusted-proxy): must be an IPv4 or IPv6 address or a CIDR range"#),
        Mistake(name: "trusted proxy range with host bits in the environment", environment: ["PRESENCE_TRUSTED_PROXY": "::1,10.0.0.1/8"],
                message: #"trusted-proxy = "10.0.0.1/8" (from PRESENCE_TRUSTED_PROXY): must be an IPv4 or IPv6 address or a CIDR range"#),
        Mistake(name: "admin-listen that is no address", arguments: ["--admin-listen", "localhost:9090"],
                message: #"admin-listen = "localhost:9090" (from --admin-listen): must be HOST:PORT"#),
        Mistake(name: "admin-listen unix socket with a relative path", environment: ["PRESENCE_ADMIN_LISTEN": "unix:run/admin.sock"],
                message: #"admin-listen = "unix:run/admin.sock" (from PRESENCE_ADMIN_LISTEN): must be HOST:PORT"#),
        Mistake(name: "malformed subscriber hides its key", arguments: ["--subscriber", "s3cret=dashboard"],
                message: #"subscriber = "***=dashboard" (from --subscriber): expected KEY=NAME:"#),
        Mistake(name: "Google keys over plain HTTP",
                arguments: ["--google-client-id", "x.apps.googleusercontent.com", "--google-jwks-url", "http://keys.example/certs"],
                message: #"google-jwks-url = "http://keys.example/certs" (from --google-jwks-url): must be an https:// URL"#),
        Mistake(name: "Google CA file without Google sign-in", arguments: ["--google-ca-file", "/etc/hostname"],
                message: #"google-ca-file = "/etc/hostname" (from --google-ca-file): needs google-client-id too"#),
        Mistake(name: "database URL that is not PostgreSQL hides its value", arguments: ["--database-url", "mysql://ann:s3cret@db/presence"],
                message: #"database-url = *** (from --database-url): must be a postgresql://USER@HOST:PORT/DB URL"#),
        Mistake(name: "database URL and database file together",
                arguments: ["--database-file", "/tmp/presence.sqlite3"],
                environment: ["PRESENCE_DATABASE_URL": "postgresql://presence@127.0.0.1:5432/presence"],
                message: #"database-url = *** (from PRESENCE_DATABASE_URL): names the database, so database-file must not be given too"#),
        Mistake(name: "sign-up burst of zero", environment: ["PRESENCE_SIGN_UP_BURST_PER_ADDRESS": "0"],
                message: #"sign-up-burst-per-address = "0" (from PRESENCE_SIGN_UP_BURST_PER_ADDRESS): must be an integer in 1...100000"#),
    ]

    @Test(arguments: mistakes)
    func invalidConfigurationFailsBeforeStartingWithOneLineAndExit78(_ mistake: Mistake) throws {
        let presenced = try BuiltProduct("presenced")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("daemon-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let dataDir = directory.appendingPathComponent("data").path
        let configPath = directory.appendingPathComponent("presenced.json").path
        var arguments = ["--data-dir", dataDir] + mistake.arguments
        if let file = mistake.file {
            try file.write(toFile: configPath, atomically: true, encoding: .utf8)
            arguments += ["--config", configPath]
        }
        let result = try presenced.run(arguments, environment: BuiltProduct.cleanEnvironment(mistake.environment), seconds: 20)
        #expect(result.status == 78)
        let lines = result.error.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "exactly one line on standard error: \(result.error)")
        let expected = "presenced: invalid configuration: " + mistake.message.replacingOccurrences(of: "CONFIG", with: configPath)
        #expect(result.error.hasPrefix(expected), "\(result.error)")
        #expect(result.output.isEmpty)
        // Failed before storage was opened (and before any socket was bound).
        #expect(!FileManager.default.fileExists(atPath: dataDir))
    }

    @Test func flagsWinOverEnvironmentWhichWinsOverTheFile() throws {
        let presenced = try BuiltProduct("presenced")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("presenced-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try #"{"port": 9000, "loops": 3, "idle-minutes": 7, "allowed-origin": ["https://a.example"], "trusted-proxy": ["127.0.0.1", "fd00::/8"]}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        let result = try presenced.run(
            ["--config", path, "--check-config", "--port", "9002", "--echo"],
            environment: BuiltProduct.cleanEnvironment(["PRESENCE_PORT": "9001", "PRESENCE_LOOPS": "2", "PRESENCE_DATA_DIR": "/tmp/presence-x"]))
        #expect(result.status == 0, "\(result.error)")
        let lines = Set(result.output.split(separator: "\n").map(String.init))
        #expect(lines.contains("port = 9002  # --port"))
        #expect(lines.contains("loops = 2  # PRESENCE_LOOPS"))
        #expect(lines.contains("data-dir = /tmp/presence-x  # PRESENCE_DATA_DIR"))
        #expect(lines.contains("idle-minutes = 7  # \(path)"))
        #expect(lines.contains("allowed-origin = [https://a.example]  # \(path)"))
        #expect(lines.contains("trusted-proxy = [127.0.0.1, fd00::/8]  # \(path)"))
        #expect(lines.contains("echo = true  # --echo"))
        #expect(lines.contains("heartbeat-seconds = 30  # default"))
    }

    @Test func helpListsEverySettingWithItsDefaultAndEnvironmentVariable() throws {
        let presenced = try BuiltProduct("presenced")
        let settings = try presenced.run(["--check-config"]).output.split(separator: "\n").map { String($0.prefix { $0 != " " }) }
        #expect(settings.count >= 30)
        let help = try presenced.run(["--help"]).output
        let unwrapped = help.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for name in settings {
            #expect(help.contains("--\(name)"), "--help lacks --\(name)")
            let environmentName = "PRESENCE_" + name.uppercased().replacingOccurrences(of: "-", with: "_")
            #expect(unwrapped.contains("env \(environmentName)"), "--help lacks \(environmentName)")
        }
        #expect(unwrapped.components(separatedBy: "(default: ").count - 1 >= settings.count + 1)
    }

    /// `/metrics` and `/admin/…` are served on `admin-listen` only; the public port answers
    /// them 404. The operator address is bound without SO_REUSEPORT, so a second presenced
    /// on the same address fails to start instead of sharing it.
    @Test func operatorEndpointsLiveOnTheAdminListenerOnly() throws {
        let presenced = try BuiltProduct("presenced")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("admin-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let token = "operator-token-0123456789"
        let daemon = try BuiltProduct.Running(
            presenced, ["--port", "0", "--admin-listen", "127.0.0.1:0", "--data-dir", directory.path],
            environment: BuiltProduct.cleanEnvironment(["PRESENCE_ADMIN_TOKEN": token]))
        let port = try #require(daemon.awaitError(matching: #"ports=(\d+)"#, seconds: 20).flatMap { Int($0) }, "\(daemon.errorOutput)")
        let adminPort = try #require(daemon.awaitError(matching: #"admin=127\.0\.0\.1:(\d+)"#, seconds: 5).flatMap { Int($0) },
                                     "\(daemon.errorOutput)")
        #expect(adminPort != 0 && adminPort != port)
        func get(_ port: Int, _ path: String) throws -> Int {
            let c = try WebSocketClient(port: port, timeoutSeconds: 10)
            try c.write("GET \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n")
            return try c.readHTTPResponse().status
        }
        #expect(try get(adminPort, "/metrics") == 200)
        #expect(try get(adminPort, "/admin/sessions") == 200)
        #expect(try get(port, "/metrics") == 404)
        #expect(try get(port, "/admin/sessions") == 404)
        #expect(try get(port, "/healthz") == 200)

        let second = try BuiltProduct.Running(
            presenced, ["--port", "0", "--admin-listen", "127.0.0.1:\(adminPort)", "--data-dir", directory.path + "-2"],
            environment: BuiltProduct.cleanEnvironment())
        defer { try? FileManager.default.removeItem(atPath: directory.path + "-2") }
        #expect(second.waitForExit(seconds: 20) == 1)
        #expect(second.errorOutput.contains("bind 127.0.0.1:\(adminPort)"), "\(second.errorOutput)")
        kill(daemon.process.processIdentifier, SIGTERM)
        #expect(daemon.waitForExit(seconds: 15) == 0)
    }

    /// `top -H`, `perf` and gdb show each thread's job: the names reach the kernel
    /// (`/proc/PID/task/TID/comm`), which Foundation's `Thread.name` alone does not do on Linux.
    @Test func everyThreadCarriesItsJobsNameForTheKernel() throws {
        let presenced = try BuiltProduct("presenced")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("names-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let daemon = try BuiltProduct.Running(
            presenced, ["--port", "0", "--admin-listen", "off", "--loops", "2", "--presence-shards", "2", "--data-dir", directory.path],
            environment: BuiltProduct.cleanEnvironment())
        _ = try #require(daemon.awaitError(matching: #"ports=(\d+)"#, seconds: 20), "\(daemon.errorOutput)")
        let pid = daemon.process.processIdentifier
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        let names = Set(tasks.compactMap { try? String(contentsOfFile: "/proc/\(pid)/task/\($0)/comm", encoding: .utf8) }
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        for expected in ["loop-0", "loop-1", "presence-0", "presence-1", "storage-writer"] {
            #expect(names.contains(expected), "threads: \(names.sorted())")
        }
        kill(pid, SIGTERM)
        #expect(daemon.waitForExit(seconds: 15) == 0)
    }

    @Test func sigtermUnderLoadClosesEveryClientWith1001FlushesAndExitsZero() throws {
        let presenced = try BuiltProduct("presenced")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("daemon-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let daemon = try BuiltProduct.Running(
            presenced, ["--port", "0", "--admin-listen", "127.0.0.1:0", "--data-dir", directory.path, "--debounce-ms", "0",
                        "--shutdown-grace-seconds", "2"],
            environment: BuiltProduct.cleanEnvironment())
        let portText = try #require(daemon.awaitError(matching: #"ports=(\d+)"#, seconds: 20), "no listening line: \(daemon.errorOutput)")
        let port = try #require(Int(portText))

        let names = ["ann", "ben", "cat", "dan", "eve"]
        for name in names { try Self.signUp(name, port: port) }
        var clients: [String: PresenceConnection] = [:]
        for name in names { clients[name] = try Self.signIn(name, port: port) }
        try Self.befriend(clients["ann"]!, "ann", clients["ben"]!, "ben")
        try Self.befriend(clients["cat"]!, "cat", clients["dan"]!, "dan")
        let ack = try clients["ann"]!.call("send", ["to": "ben@example.com", "clientMessageId": "before-sigterm", "body": "see you after the restart"])
        #expect(ack["type"] as? String == "ok")

        // Load: cat chats to dan as fast as the acknowledgements come, through the drain.
        let load = ChatLoad()
        let sender = HandOff(clients.removeValue(forKey: "cat")!)
        let loadThread = Thread { load.run(sender.value, to: "dan@example.com") }
        loadThread.start()
        #expect(Self.eventually(10) { load.ackedCount >= 5 }, "load did not start: \(load.snapshot)")

        kill(daemon.process.processIdentifier, SIGTERM)
        let signalled = Date()

        for (name, client) in clients {
            #expect(Self.closeCode(of: client) == 1001, "\(name) did not get Close 1001")
        }
        #expect(Self.eventually(10) { load.isFinished }, "the sender never saw its close")
        #expect(load.snapshot.closeCode == 1001, "\(load.snapshot)")

        // No longer ready: 503, or the port no longer accepts.
        if let c = try? WebSocketClient(port: port) {
            if (try? c.write("GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")) != nil,
               let response = try? c.readHTTPResponse() {
                #expect(response.status == 503)
            }
        }

        let status = daemon.waitForExit(seconds: 20)
        #expect(status == 0, "exit status \(String(describing: status)): \(daemon.errorOutput)")
        #expect(Date().timeIntervalSince(signalled) < 15)

        // Everything acknowledged is in the file.
        let database = try Database(path: directory.appendingPathComponent("presence.sqlite3").path, migrate: false)
        let stored = Set(try database.query("SELECT client_message_id FROM messages") { $0.text(0) })
        #expect(stored.contains("before-sigterm"))
        let acked = load.snapshot.acked
        #expect(!acked.isEmpty)
        #expect(Set(acked).isSubset(of: stored), "acknowledged but lost: \(Set(acked).subtracting(stored).sorted())")
    }

    // MARK: - Helpers

    static let password = "Correct#Horse9"

    static func signUp(_ name: String, port: Int) throws {
        let c = try WebSocketClient(port: port, timeoutSeconds: 10)
        let body = try JSONSerialization.data(withJSONObject: [
            "email": "\(name)@example.com", "password": password, "firstName": name.capitalized, "lastName": "Test"])
        try c.write("POST /v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n")
        try c.write(Array(body))
        let response = try c.readHTTPResponse()
        try #require(response.status == 201, "sign-up of \(name): \(response)")
    }

    static func signIn(_ name: String, port: Int) throws -> PresenceConnection {
        let c = try PresenceConnection(port: port, timeoutSeconds: 10)
        let reply = try c.call("signIn", ["method": "password", "email": "\(name)@example.com", "password": password, "device": "desktop"])
        try #require(reply["type"] as? String == "ok", "sign-in of \(name): \(reply)")
        return c
    }

    static func befriend(_ a: PresenceConnection, _ aName: String, _ b: PresenceConnection, _ bName: String) throws {
        _ = try a.call("requestContact", ["user": "\(bName)@example.com"])
        _ = try b.event("contactRequest")
        _ = try b.call("acceptContact", ["user": "\(aName)@example.com"])
        _ = try a.event("contactAdded")
    }

    /// Reads past any events to the Close frame. - Returns: its code; nil if none came.
    static func closeCode(of client: PresenceConnection) -> UInt16? {
        for _ in 0..<10_000 {
            do { _ = try client.next() } catch let closed as PresenceConnection.Closed { return closed.code } catch { return nil }
        }
        return nil
    }

    static func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }
}

/// One client sending chats in a loop on its own thread until its connection closes,
/// remembering which ones the server acknowledged.
final class ChatLoad: Sendable {
    struct State: Sendable {
        var acked: [String] = []
        var closeCode: UInt16?
        var failure: String?
        var isFinished = false
    }

    private let state = Mutex(State())

    var snapshot: State { state.withLock { $0 } }
    var ackedCount: Int { state.withLock { $0.acked.count } }
    var isFinished: Bool { state.withLock { $0.isFinished } }

    /// - Parameter connection: used only by this thread from here on.
    func run(_ connection: PresenceConnection, to recipient: String) {
        var n = 0
        while true {
            n += 1
            let id = "load-\(n)"
            do {
                let reply = try connection.call("send", ["to": recipient, "clientMessageId": id, "body": "message \(n)"])
                if reply["type"] as? String == "ok" { state.withLock { $0.acked.append(id) } }
            } catch let closed as PresenceConnection.Closed {
                state.withLock { $0.closeCode = closed.code; $0.isFinished = true }
                return
            } catch {
                state.withLock { $0.failure = "\(error)"; $0.isFinished = true }
                return
            }
        }
    }
}

/// Moves a connection to the load thread.
// @unchecked: the test thread creates the connection, hands it over and never touches it
// again, so one thread at a time uses it.
struct HandOff: @unchecked Sendable {
    let value: PresenceConnection
    init(_ value: PresenceConnection) { self.value = value }
}
