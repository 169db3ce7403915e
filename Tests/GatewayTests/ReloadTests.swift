import COpenSSL
import Foundation
import Glibc
import PresenceClient
import Testing
import Transport

/// SIGHUP reloads what can change without a restart: the TLS certificate (for new
/// connections; open ones stay) and the log level.
@Suite(.serialized) struct ReloadTests {
    /// A self-signed certificate for 127.0.0.1, made with the openssl command.
    static func certificate(in directory: URL, named name: String) throws -> (cert: String, key: String) {
        let cert = directory.appendingPathComponent("\(name).pem").path
        let key = directory.appendingPathComponent("\(name)-key.pem").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                       "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=\(name)", "-addext", "subjectAltName=IP:127.0.0.1"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return (cert, key)
    }

    @Test func sighupSwapsTheCertificateForNewConnectionsAndKeepsOpenOnes() throws {
        let presenced = try BuiltProduct("presenced")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("reload-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let old = try Self.certificate(in: directory, named: "old")
        let new = try Self.certificate(in: directory, named: "new")
        // The files the configuration names; renewing a certificate replaces them.
        let certPath = directory.appendingPathComponent("live.pem").path
        let keyPath = directory.appendingPathComponent("live-key.pem").path
        try FileManager.default.copyItem(atPath: old.cert, toPath: certPath)
        try FileManager.default.copyItem(atPath: old.key, toPath: keyPath)
        let tlsPort = try #require(Self.freePort())
        let daemon = try BuiltProduct.Running(
            presenced, ["--port", "0", "--admin-listen", "off", "--echo", "--data-dir", directory.appendingPathComponent("data").path,
                        "--tls-port", String(tlsPort), "--tls-cert", certPath, "--tls-key", keyPath],
            environment: BuiltProduct.cleanEnvironment())
        defer { kill(daemon.process.processIdentifier, SIGTERM); _ = daemon.waitForExit(seconds: 10) }
        _ = try #require(daemon.awaitError(matching: #"ports=(\d+)"#, seconds: 20), "no listening line: \(daemon.errorOutput)")

        let before = try WebSocketClient(port: tlsPort, tlsContext: TLSContext(clientTrusting: old.cert))
        try before.upgrade()

        try FileManager.default.removeItem(atPath: certPath)
        try FileManager.default.removeItem(atPath: keyPath)
        try FileManager.default.copyItem(atPath: new.cert, toPath: certPath)
        try FileManager.default.copyItem(atPath: new.key, toPath: keyPath)
        kill(daemon.process.processIdentifier, SIGHUP)
        #expect(daemon.awaitError(matching: #"(reloaded)"#, seconds: 10) != nil, "\(daemon.errorOutput)")

        // New connections get the new certificate; the old one is no longer served.
        let after = try WebSocketClient(port: tlsPort, tlsContext: TLSContext(clientTrusting: new.cert))
        try after.upgrade()
        try after.send(text: "new")
        #expect(try after.receive() == .text("new"))
        #expect(throws: (any Error).self) { _ = try WebSocketClient(port: tlsPort, tlsContext: TLSContext(clientTrusting: old.cert)) }
        // The connection made before the reload is still open and working.
        try before.send(text: "still here")
        #expect(try before.receive() == .text("still here"))
    }

    static func freePort() -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        guard withUnsafeMutablePointer(to: &addr, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }) == 0 else { return nil }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
