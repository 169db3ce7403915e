import Foundation

/// A throw-away certificate authority and one server certificate it signed, made with the
/// openssl command at test time. Clients trust `ca`; the server serves `certificate`.
/// Shared by the transport, accounts and gateway tests (test targets share code only
/// through a target like this one).
public struct TestCertificateAuthority: Sendable {
    public let directory: URL
    public var ca: String { directory.appendingPathComponent("ca.pem").path }
    public var certificate: String { directory.appendingPathComponent("cert.pem").path }
    public var key: String { directory.appendingPathComponent("key.pem").path }

    public struct Failed: Error {}

    /// - Parameter subjectAltName: the names the server certificate carries.
    public init(subjectAltName: String = "DNS:localhost,IP:127.0.0.1") throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let d = directory.path
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(["req", "-x509"] + ec + ["-keyout", "\(d)/ca-key.pem", "-out", "\(d)/ca.pem", "-days", "1",
                         "-subj", "/CN=presence test CA", "-addext", "basicConstraints=critical,CA:TRUE",
                         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        try Self.openssl(["req"] + ec + ["-keyout", "\(d)/key.pem", "-out", "\(d)/cert.csr", "-subj", "/CN=presence test server",
                         "-addext", "subjectAltName=\(subjectAltName)"])
        try Self.openssl(["x509", "-req", "-in", "\(d)/cert.csr", "-CA", "\(d)/ca.pem", "-CAkey", "\(d)/ca-key.pem",
                         "-CAcreateserial", "-copy_extensions", "copyall", "-days", "1", "-out", "\(d)/cert.pem"])
    }

    public static func openssl(_ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = arguments
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Failed() }
    }

    public func remove() { try? FileManager.default.removeItem(at: directory) }
}
