import Transport
import WebSocket

/// Routes of the gateway, per event loop: plain HTTP endpoints and WebSocket upgrades.
///
/// Routes today:
/// - `GET /healthz`: 200 while the process runs.
/// - `/echo` (only with `--echo`): a WebSocket that echoes every message, for conformance
///   (Autobahn) and the load generator.
public final class GatewayHandler: ConnectionHandler {
    /// What the gateway serves; fixed at start-up.
    public struct Options: Sendable {
        /// Serve the `/echo` WebSocket.
        public var isEchoEnabled = false
        /// Allowed browser origins for upgrades; empty allows any.
        public var allowedOrigins: [String] = []
        /// Limits of the `/echo` route: large enough for Autobahn's 16 MiB cases, with room
        /// to queue two such echoes for a reader that is momentarily behind.
        public var echoLimits = MessageLimits(maxFrameSize: 16 << 20, maxMessageSize: 16 << 20, maxBufferedBytes: 40 << 20)
        public init() {}
    }

    /// Route numbers handed to the transport at upgrade.
    enum Route: Int {
        case echo = 1
    }

    let options: Options

    public init(options: Options) {
        self.options = options
    }

    public func handle(_ request: HTTPRequest, on loop: EventLoop) -> HTTPResponse {
        switch (request.head.method, request.head.path) {
        case ("GET", "/healthz"), ("HEAD", "/healthz"):
            return .text(200, "ok")
        case (_, "/echo") where options.isEchoEnabled:
            return .text(426, "this is a WebSocket endpoint", headers: [("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13")])
        default:
            return .text(404, "not found")
        }
    }

    public func route(_ head: HTTPRequestHead, remoteAddress: String) -> UpgradeDecision {
        switch head.path {
        case "/echo" where options.isEchoEnabled:
            return .accept(policy: Handshake.Policy(allowedOrigins: options.allowedOrigins, allowsCompression: true),
                           limits: options.echoLimits, route: Route.echo.rawValue)
        default:
            return .reject(.text(404, "no WebSocket endpoint at \(head.path)"))
        }
    }

    public func opened(_ id: ConnectionID, route: Int, subprotocol: String?, on loop: EventLoop) {}

    public func received(_ id: ConnectionID, opcode: Opcode, payload: UnsafeRawBufferPointer, on loop: EventLoop) {
        // Echo is the only message route so far.
        loop.send(id, opcode: opcode, payload: payload)
    }

    public func closed(_ id: ConnectionID, code: CloseCode, on loop: EventLoop) {}
}
