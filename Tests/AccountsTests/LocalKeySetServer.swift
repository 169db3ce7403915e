import Foundation
import Glibc

/// `Tests/Support/jwks_https_server.py` as a child process: a JWKS over HTTPS on
/// loopback, with a certificate from a CA made at test time. The test decides what it
/// serves and reads how many requests arrived.
final class LocalKeySetServer {
    let directory = TemporaryDirectory()
    private let process = Process()
    let port: Int

    /// The CA that signed the server's certificate.
    var caFile: String { directory.path("ca.pem") }
    /// A CA that signed nothing the server presents.
    var otherCAFile: String { directory.path("other-ca.pem") }
    var url: String { "https://127.0.0.1:\(port)/oauth2/v3/certs" }

    init(serving keys: [TestSigningKey], maxAgeSeconds: Int) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/jwks_https_server.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, directory.url.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle(forWritingAtPath: "/dev/stderr")
        let directory = self.directory
        func setUp() throws {
            try keySetJSON(keys).write(to: URL(fileURLWithPath: directory.path("jwks.json")))
            try "\(maxAgeSeconds)".write(toFile: directory.path("max-age"), atomically: true, encoding: .utf8)
        }
        try setUp()
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        var port: Int?
        while port == nil && Date() < deadline && process.isRunning {
            port = (try? String(contentsOfFile: directory.path("port"), encoding: .utf8)).flatMap { Int($0) }
            if port == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let port else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw NotStarted()
        }
        self.port = port
    }

    struct NotStarted: Error {}

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Replaces the key set (a rotation at Google).
    func serve(_ keys: [TestSigningKey]) throws {
        try keySetJSON(keys).write(to: URL(fileURLWithPath: directory.path("jwks.json")), options: .atomic)
    }

    /// Makes each response wait, so that concurrent fetches would overlap.
    func delayResponses(seconds: Double) throws {
        try "\(seconds)".write(toFile: directory.path("delay"), atomically: true, encoding: .utf8)
    }

    /// GET requests that reached the server (a refused TLS handshake never does).
    var requestCount: Int {
        (try? String(contentsOfFile: directory.path("requests"), encoding: .utf8)).flatMap { Int($0) } ?? -1
    }
}
