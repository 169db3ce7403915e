import Foundation
import Gateway
import Storage
import StorageTestSupport
import Testing

/// PostgreSQL restarting under a running gateway (issue 10: "sends fail with the documented
/// retryable error, never a false acknowledgement, and the node recovers by itself").
///
/// Stops and starts the private server scripts/postgres.sh runs, so it must not share that
/// server with other tests: the script runs this suite alone, after the others, with
/// `PRESENCE_TEST_POSTGRES_STOP` and `PRESENCE_TEST_POSTGRES_START` (shell commands) set.
@Suite(.enabled(if: TestStorage.databaseURL != nil && PostgresControl.isAvailable,
                "PRESENCE_TEST_POSTGRES_STOP/START unset: scripts/postgres.sh runs this suite on its own"))
struct PostgresRestartTests {
    @Test func sendsFailRetryablyWhileDownAndTheGatewayRecoversByItself() throws {
        let (location, g, alice, bob) = try RunningGateway.twoContactsOnFreshPostgresSchema()
        let before = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "m-1", "body": "before"])
        #expect(before["type"] as? String == "ok", "control: a send commits while PostgreSQL is up")
        #expect(try bob.event("chat")["body"] as? String == "before")

        try PostgresControl.run(.stop)
        var restarted = false
        defer { if !restarted { try? PostgresControl.run(.start) } }
        for i in 1...3 {
            let refused = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "down-\(i)", "body": "while down \(i)"])
            #expect(refused["type"] as? String == "error", "send \(i) while PostgreSQL is down is not acknowledged")
            #expect(refused["code"] as? String == "storage_failed")
        }
        // The session itself is unharmed: presence work that needs no storage still answers.
        #expect(try alice.call("heartbeat", ["lastSeq": 0])["type"] as? String == "ok")

        try PostgresControl.run(.start)
        restarted = true
        // No operator action: the writer reconnects on its next job. A send may still meet a
        // connection PostgreSQL dropped at stop, so retry (as the client is told to) for a while.
        var answer: [String: Any] = [:]
        let recovered = try g.eventually(30) {
            answer = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "down-1", "body": "while down 1"])
            return answer["type"] as? String == "ok"
        }
        #expect(recovered, "the gateway commits again after PostgreSQL is back: \(answer)")
        #expect(try bob.event("chat")["body"] as? String == "while down 1", "the retried send arrives")
        // What PostgreSQL holds: the two acknowledged messages, nothing that was refused.
        let database = try Database(location: location, migrate: false)
        let bodies = try database.query("SELECT body FROM messages ORDER BY id") { $0.text(0) }
        #expect(bodies == ["before", "while down 1"])
        // Sign-in, which reads and writes storage, works again too.
        let (again, _) = try g.signIn("bob", device: "mobile")
        #expect(try again.event("snapshot")["type"] as? String == "snapshot")
    }
}

/// Stops and starts the private PostgreSQL through the commands scripts/postgres.sh exports.
enum PostgresControl {
    enum Action: String {
        case stop = "PRESENCE_TEST_POSTGRES_STOP"
        case start = "PRESENCE_TEST_POSTGRES_START"
    }

    static var isAvailable: Bool { command(.stop) != nil && command(.start) != nil }

    static func command(_ action: Action) -> String? {
        ProcessInfo.processInfo.environment[action.rawValue].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Runs the command through `/bin/sh -c` and waits for it with `waitpid`: Foundation's
    /// `Process.waitUntilExit` hung here after `pg_ctl start` (its server lives on).
    static func run(_ action: Action) throws {
        guard let command = command(action) else { throw ControlError(message: "\(action.rawValue) unset") }
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sh", "-c", command].map { (s: String) in strdup(s) } + [nil]
        defer { for p in argv { free(p) } }
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ)
        guard spawned == 0 else { throw ControlError(message: "\(action.rawValue): posix_spawn failed (\(spawned))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw ControlError(message: "\(action.rawValue) failed (wait status \(status))")
        }
    }

    struct ControlError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }
}
