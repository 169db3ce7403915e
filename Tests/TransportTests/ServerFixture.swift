import Foundation
import Gateway
@testable import Transport
import WebSocket

/// A real server on an ephemeral loopback port, stopped when the test ends.
final class RunningServer {
    let server: Server
    var port: Int { server.ports[0] }
    var tlsPort: Int { server.ports[1] }

    init(configure: (inout ServerConfiguration) -> Void = { _ in },
         handler: @escaping (Int) -> ConnectionHandler = { _ in
             var o = GatewayHandler.Options()
             o.isEchoEnabled = true
             return GatewayHandler(options: o)
         }) throws {
        var config = ServerConfiguration()
        config.endpoints = [.init(host: "127.0.0.1", port: 0)]
        configure(&config)
        server = try Server(configuration: config, makeHandler: handler)
        server.start()
    }

    deinit { server.shutdown() }
}

/// A self-signed certificate made at test time with the openssl command.
struct TestCertificate {
    let directory: URL
    var certificate: String { directory.appendingPathComponent("cert.pem").path }
    var key: String { directory.appendingPathComponent("key.pem").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                       "-keyout", directory.appendingPathComponent("key.pem").path,
                       "-out", directory.appendingPathComponent("cert.pem").path,
                       "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1"]
        p.standardError = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TransportError("openssl req failed") }
    }
}
