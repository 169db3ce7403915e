import Foundation
import Glibc
import PresenceClient
import Testing

/// A real `presenced` started under a low descriptor limit (`prlimit --nofile=64`), then
/// sent more connections than it can hold. The accept loop must not spin on EMFILE: the
/// excess connections are refused (503) with the reserve descriptor, the process stays
/// nearly idle, and it accepts again once connections close.
@Suite(.serialized) struct DescriptorExhaustionTests {
    /// CPU time (user + system) of a process so far, in seconds, from /proc/PID/stat.
    static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    @Test func runningOutOfDescriptorsNeitherSpinsNorStopsAccepting() throws {
        let presenced = try BuiltProduct("presenced")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("emfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let errorPath = directory.appendingPathComponent("stderr").path
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        process.arguments = ["--nofile=64:64", "--", presenced.url.path, "--port", "0", "--admin-listen", "off", "--data-dir", directory.path,
                             "--request-timeout-seconds", "30"]
        process.environment = BuiltProduct.cleanEnvironment()
        process.standardError = FileHandle(forWritingAtPath: errorPath)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        let pid = process.processIdentifier  // prlimit execs presenced: the same process

        var port: Int?
        let deadline = Date().addingTimeInterval(20)
        while port == nil, Date() < deadline {
            let text = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
            if let match = text.firstMatch(of: /ports=(\d+)/) { port = Int(match.1) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let p = try #require(port, "no listening line")

        // Far more connections than 64 descriptors allow, each with a request.
        var clients: [WebSocketClient] = []
        for _ in 0..<100 {
            let c = try WebSocketClient(port: p, timeoutSeconds: 1)
            try? c.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            clients.append(c)
        }
        Thread.sleep(forTimeInterval: 0.3)
        // No spin: over 2 s the process uses a small fraction of one core.
        let before = try #require(Self.cpuSeconds(pid))
        Thread.sleep(forTimeInterval: 2)
        let after = try #require(Self.cpuSeconds(pid))
        #expect(after - before < 0.3, "presenced used \(after - before) s of CPU in 2 s while out of descriptors")

        // Served (200), refused (503, or closed: a refusal can race the request and reset),
        // or left silent in the backlog (what spinning on EMFILE did).
        var answered = 0, refused = 0, silent = 0
        for c in clients {
            guard silent == 0 else { silent += 1; continue }
            do {
                let r = try c.readHTTPResponse()
                if r.status == 200 { answered += 1 } else if r.status == 503 { refused += 1 }
            } catch WebSocketClient.Failure.timeout {
                silent += 1
            } catch {
                refused += 1
            }
        }
        // Positive control: the limit was really reached (some were refused) and the rest served.
        #expect(answered > 0)
        #expect(refused > 0, "no connection was refused: the descriptor limit was never reached")
        #expect(silent == 0, "connections left waiting in the backlog")
        #expect(answered + refused == clients.count)

        // Recovery: once the held connections close, new ones are accepted and served.
        clients.removeAll()
        var served = false
        let retryUntil = Date().addingTimeInterval(5)
        while !served, Date() < retryUntil {
            if let c = try? WebSocketClient(port: p, timeoutSeconds: 2),
               (try? c.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")) != nil,
               let r = try? c.readHTTPResponse(), r.status == 200 {
                served = true
            } else {
                Thread.sleep(forTimeInterval: 0.1)
            }
        }
        #expect(served, "presenced did not accept again after the connections closed")
    }
}
