import Foundation
import Glibc

/// `Tests/Support/jwks_https_server.py` as a child process: a JWKS over HTTPS on
/// loopback, with a certificate from a CA made at test time. The test decides what it
/// serves and reads how many requests arrived. Shared by the accounts and gateway tests.
public final class LocalKeySetServer {
    let directory: URL
    private let process = Process()
    public let port: Int

    /// The CA that signed the server's certificate.
    public var caFile: String { directory.appendingPathComponent("ca.pem").path }
    /// A CA that signed nothing the server presents.
    public var otherCAFile: String { directory.appendingPathComponent("other-ca.pem").path }
    public var url: String { "https://127.0.0.1:\(port)/oauth2/v3/certs" }

    /// - Parameter jwks: the key set to serve.
    public init(serving jwks: Data, maxAgeSeconds: Int) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-https-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try jwks.write(to: directory.appendingPathComponent("jwks.json"))
        try "\(maxAgeSeconds)".write(to: directory.appendingPathComponent("max-age"), atomically: true, encoding: .utf8)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Support/jwks_https_server.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, directory.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let portFile = directory.appendingPathComponent("port")
        let deadline = Date().addingTimeInterval(30)
        var port: Int?
        while port == nil && Date() < deadline && process.isRunning {
            port = (try? String(contentsOf: portFile, encoding: .utf8)).flatMap { Int($0) }
            if port == nil { Thread.sleep(forTimeInterval: 0.05) }
        }
        guard let port else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            throw NotStarted()
        }
        self.port = port
    }

    public struct NotStarted: Error {}

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Replaces the key set (a rotation at Google).
    public func serve(_ jwks: Data) throws {
        try jwks.write(to: directory.appendingPathComponent("jwks.json"), options: .atomic)
    }

    /// Makes each response wait, so that concurrent fetches would overlap.
    public func delayResponses(seconds: Double) throws {
        try "\(seconds)".write(to: directory.appendingPathComponent("delay"), atomically: true, encoding: .utf8)
    }

    /// GET requests that reached the server (a refused TLS handshake never does).
    public var requestCount: Int {
        (try? String(contentsOf: directory.appendingPathComponent("requests"), encoding: .utf8)).flatMap { Int($0) } ?? -1
    }
}
