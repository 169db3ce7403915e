import WebSocket

/// Identifies one connection across threads: its loop, its descriptor and a generation
/// that changes whenever the descriptor is reused, so a stale ID never reaches a new peer.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    public var loop: Int
    public var fd: Int32
    public var generation: UInt32
    public init(loop: Int, fd: Int32, generation: UInt32) {
        self.loop = loop
        self.fd = fd
        self.generation = generation
    }
    public var description: String { "\(loop).\(fd).\(generation)" }

    /// The largest generation a loop hands out (24 bits).
    public static let maxGeneration: UInt32 = 0xFF_FFFF

    /// The ID in one word: fd (32 bits), generation (24), loop (8). Never 0 (generations
    /// start at 1), so 0 can mean "no connection".
    public var packed: UInt64 {
        UInt64(UInt32(bitPattern: fd)) | UInt64(generation & Self.maxGeneration) << 32 | UInt64(UInt8(truncatingIfNeeded: loop)) << 56
    }

    /// Unpacks `packed`; `nil` for 0.
    public init?(packed: UInt64) {
        guard packed != 0 else { return nil }
        self.init(loop: Int(packed >> 56), fd: Int32(bitPattern: UInt32(truncatingIfNeeded: packed)),
                  generation: UInt32(truncatingIfNeeded: packed >> 32) & Self.maxGeneration)
    }
}

/// A plain HTTP request with its body.
public struct HTTPRequest: Sendable {
    public var head: HTTPRequestHead
    public var body: [UInt8]
    /// The peer's address ("unix" on a unix-domain socket).
    public var remoteAddress: String
    /// The index of the endpoint the request arrived on (`ServerConfiguration.endpoints`).
    public var endpoint: Int = 0
}

/// What to do with a WebSocket upgrade request.
public enum UpgradeDecision: Sendable {
    /// Validate it under `policy` and, if valid, open a WebSocket with these limits.
    /// `route` is a number of the handler's choosing, available on the connection later.
    case accept(policy: Handshake.Policy, limits: MessageLimits, route: Int)
    /// Refuse with this response.
    case reject(HTTPResponse)
}

/// Size limits of one WebSocket route.
public struct MessageLimits: Sendable {
    /// The largest frame payload; larger closes with 1009.
    public var maxFrameSize: Int
    /// The largest message after reassembly and inflation; larger closes with 1009.
    public var maxMessageSize: Int
    /// Wire bytes queued for a slow reader of this route before it is closed with 1013;
    /// nil uses the server-wide `ServerConfiguration.maxBufferedBytes`. A route that sends
    /// large messages needs room for at least one of them.
    public var maxBufferedBytes: Int?
    public init(maxFrameSize: Int, maxMessageSize: Int, maxBufferedBytes: Int? = nil) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.maxBufferedBytes = maxBufferedBytes
    }
}

/// The application side of the transport. One handler serves one event loop and is called
/// only on that loop's thread, so it needs no locks for its own per-loop state.
public protocol ConnectionHandler: AnyObject {
    /// A plain HTTP request (not an upgrade).
    /// - Returns: the response, or nil to answer later with `EventLoop.respond(_:with:)`
    ///   (after blocking work on another thread); the connection reads no further request
    ///   until then.
    func handle(_ request: HTTPRequest, id: ConnectionID, on loop: EventLoop) -> HTTPResponse?
    /// Decides a WebSocket upgrade before it is validated.
    func route(_ head: HTTPRequestHead, remoteAddress: String) -> UpgradeDecision
    /// Decides a WebSocket upgrade that arrived on endpoint `endpoint`; by default the same
    /// for every endpoint.
    func route(_ head: HTTPRequestHead, remoteAddress: String, endpoint: Int) -> UpgradeDecision
    /// A WebSocket opened.
    func opened(_ id: ConnectionID, route: Int, subprotocol: String?, on loop: EventLoop)
    /// A complete text or binary message. The bytes are borrowed for the call only.
    func received(_ id: ConnectionID, opcode: Opcode, payload: UnsafeRawBufferPointer, on loop: EventLoop)
    /// The WebSocket closed (any reason, once). `code` is what the peer sent or what the
    /// server closed with; 1006 when the connection dropped.
    func closed(_ id: ConnectionID, code: CloseCode, on loop: EventLoop)
    /// Called about once a second on the loop thread, for the handler's own timeouts.
    func tick(on loop: EventLoop)
}

extension ConnectionHandler {
    public func tick(on loop: EventLoop) {}
    public func route(_ head: HTTPRequestHead, remoteAddress: String, endpoint: Int) -> UpgradeDecision {
        route(head, remoteAddress: remoteAddress)
    }
}
