import Foundation
import TLSTestSupport
@testable import Transport
import WebSocket

/// The smallest real application: echoes every message on `/echo`, answers `GET /healthz`,
/// and 426 to a plain GET of `/echo`. Transport tests run against it so they depend on
/// nothing above the transport.
final class EchoHandler: ConnectionHandler {
    var limits = MessageLimits(maxFrameSize: 16 << 20, maxMessageSize: 16 << 20, maxBufferedBytes: 40 << 20)
    var allowedOrigins: [String] = []

    init(limits: MessageLimits? = nil, allowedOrigins: [String] = []) {
        if let limits { self.limits = limits }
        self.allowedOrigins = allowedOrigins
    }

    func handle(_ request: HTTPRequest, id: ConnectionID, on loop: EventLoop) -> HTTPResponse? {
        switch request.head.path {
        case "/healthz": return .text(200, "ok")
        case "/echo": return .text(426, "this is a WebSocket endpoint", headers: [("Sec-WebSocket-Version", "13")])
        case "/later":
            // Answered from another thread, as the gateway does after blocking work.
            let body = request.body
            loop.execute { loop in loop.respond(id, with: HTTPResponse(status: 200, body: body)) }
            return nil
        case "/slow":
            // Answered 0.8 s later from another thread: longer than a short request timeout.
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.8) {
                loop.execute { loop in loop.respond(id, with: .text(200, "slow")) }
            }
            return nil
        case "/hold": return nil  // never answered: what comes behind it waits
        default: return .text(404, "not found")
        }
    }

    func route(_ head: HTTPRequestHead, remoteAddress: String) -> UpgradeDecision {
        guard head.path == "/echo" else { return .reject(.text(404, "no WebSocket here")) }
        return .accept(policy: Handshake.Policy(allowedOrigins: allowedOrigins), limits: limits, route: 1)
    }

    func opened(_ id: ConnectionID, route: Int, subprotocol: String?, on loop: EventLoop) {}

    func received(_ id: ConnectionID, opcode: Opcode, payload: UnsafeRawBufferPointer, on loop: EventLoop) {
        loop.send(id, opcode: opcode, payload: payload)
    }

    func closed(_ id: ConnectionID, code: CloseCode, on loop: EventLoop) {}
}

/// A real server on an ephemeral loopback port, stopped when the test ends.
final class RunningServer {
    let server: Server
    var port: Int { server.ports[0] }
    var tlsPort: Int { server.ports[1] }

    init(configure: (inout ServerConfiguration) -> Void = { _ in },
         handler: @escaping (Int) -> ConnectionHandler = { _ in EchoHandler() }) throws {
        var config = ServerConfiguration()
        config.endpoints = [.init(host: "127.0.0.1", port: 0)]
        configure(&config)
        server = try Server(configuration: config, makeHandler: handler)
        server.start()
    }

    deinit { server.shutdown() }
}

/// A test certificate authority and a server certificate it signed (for `localhost` and
/// 127.0.0.1): the shared one.
typealias TestCertificate = TestCertificateAuthority
