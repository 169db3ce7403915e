import WebSocket

/// Everything the transport keeps for one socket.
///
/// Kept small and flat: an idle WebSocket owns no buffers at all. Input is read into the
/// loop's shared buffer and parsed in place; output is gathered in the loop's shared
/// outbound queue and written once per loop iteration; only bytes a socket would not take
/// (a slow reader) or a request head split over reads are copied out of it, into boxes
/// that exist only while they hold something.
///
/// The object is the largest part of an idle connection's memory, so its stored fields
/// are ordered to leave no padding and sized to their range: 112 bytes with the object
/// header, one allocator size class (`ConnectionLayoutTests` keeps it there). What an
/// idle connection does not use (a request being read, a reader mid-message, bytes a
/// slow reader owes, a TLS session) lives outside it.
final class Connection {
    enum State: UInt8 {
        /// Reading an HTTP request (before any upgrade, or between keep-alive requests).
        case http
        /// An open WebSocket.
        case open
        /// We sent a Close and wait for the peer's (bounded by the close timeout).
        case closing
        /// The socket is closed; the object is about to go.
        case closed
    }

    /// The connection's yes/no facts, one bit each (nine `Bool`s would take nine bytes).
    struct Flags: OptionSet {
        let rawValue: UInt16
        static let closeAfterFlush = Flags(rawValue: 1 << 0)
        static let lingers = Flags(rawValue: 1 << 1)
        static let isHalfClosed = Flags(rawValue: 1 << 2)
        static let reportedClose = Flags(rawValue: 1 << 3)
        static let isWebSocket = Flags(rawValue: 1 << 4)
        static let isAwaitingResponse = Flags(rawValue: 1 << 5)
        static let keepsAliveAfterResponse = Flags(rawValue: 1 << 6)
        static let isWaitingForWritable = Flags(rawValue: 1 << 7)
        static let isDirty = Flags(rawValue: 1 << 8)
        static let isAwaitingPong = Flags(rawValue: 1 << 9)
        static let isTLS = Flags(rawValue: 1 << 10)
    }

    // Stored fields. What every fan-out delivery and every flush reads (the generation,
    // the outbound queue's index, the state, the flags, the bytes owed) comes first, in
    // the 32 bytes after the object header whose reference count the loop touches anyway:
    // an iteration under fan-out load queues ~200,000 deliveries for ~9,000 connections,
    // each a cache miss on its `Connection`, and with these fields spread over the object
    // each delivery missed on two lines (loadtest/README.md, "Pinned fan-out, 3 December
    // (second session)"). The rest follows, ordered to leave no padding.

    let fd: Int32
    let generation: UInt32
    /// The index of this connection's buffer in the loop's outbound queue this iteration
    /// (-1: nothing queued).
    var queueHead: Int32 = -1
    var state: State = .http
    /// The index of the endpoint it was accepted on (`ServerConfiguration.endpoints`).
    var endpoint: UInt8 = 0
    var flags: Flags = []
    /// Wire bytes the socket has not taken yet.
    var pending = PendingBytes()
    /// The most wire bytes `pending` may hold before the reader counts as too slow (a
    /// route's limit above 4 GiB is held as 4 GiB, more than a process here can buffer).
    var maxBufferedBytes: UInt32 = 0
    /// The route's frame and message limits (at most 4 GiB each), for fresh readers.
    var maxFrameSize: UInt32 = 0
    /// The client's address: the peer's, or from the upgrade on the address a trusted
    /// proxy forwarded (`EventLoop.clientAddress(of:_:)`). The per-address connection count
    /// is held under this address.
    var remoteAddress: String
    /// One word the handler keeps for this connection (the gateway: its sign-in phase and
    /// session), so no handler needs a table keyed by connection. 0 when never set.
    var handlerWord: UInt64 = 0
    /// Last time bytes arrived (loop clock, ms).
    var lastReceived: Int64
    /// When the current phase times out (request, close handshake; on an open WebSocket,
    /// the unanswered ping's timeout while `isAwaitingPong`), or 0.
    var phaseDeadline: Int64 = 0
    /// The wheel tick of this connection's live timer entry, or -1.
    var filedTick: Int64 = -1
    var maxMessageSize: UInt32 = 0
    /// How a fresh reader inflates: permessage-deflate not negotiated, through the loop's
    /// shared inflater (client_no_context_takeover), or through one of its own.
    var inflation = ReaderInflation.none
    /// The window (8-15) the loop's shared deflater uses for this connection, or 0 when
    /// not compressing.
    var deflateWindowBits: UInt8 = 0
    /// What is kept between reads while a request or a message is partly read: `nil` at
    /// rest, which is nearly always. Each read then starts from a fresh reader made from
    /// the settings above (`EventLoop.makeReader`).
    var carry: InboundCarry?

    init(fd: Int32, generation: UInt32, remoteAddress: String, isTLS: Bool, now: Int64) {
        self.fd = fd
        self.generation = generation
        self.remoteAddress = remoteAddress
        self.lastReceived = now
        if isTLS { flags.insert(.isTLS) }
    }

    var bufferedBytes: Int { pending.count }

    /// The token epoll and the timer wheel carry for this connection.
    var token: UInt64 { UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd)) }

    // MARK: - The flags by name

    /// Close the socket as soon as everything queued is written.
    var closeAfterFlush: Bool { get { flags.contains(.closeAfterFlush) } set { flags.set(.closeAfterFlush, newValue) } }
    /// We closed for a protocol violation (or refused a request): once our Close (or error
    /// answer) is written, half-close and read and discard until the peer closes or the
    /// close timeout passes (a lingering close), so a peer still sending reads why instead
    /// of meeting a TCP reset.
    var lingers: Bool { get { flags.contains(.lingers) } set { flags.set(.lingers, newValue) } }
    /// Our side of the TCP stream is shut (`SHUT_WR`) while lingering.
    var isHalfClosed: Bool { get { flags.contains(.isHalfClosed) } set { flags.set(.isHalfClosed, newValue) } }
    /// The WebSocket Close code already reported to the handler (once).
    var reportedClose: Bool { get { flags.contains(.reportedClose) } set { flags.set(.reportedClose, newValue) } }
    /// Whether the upgrade completed (the handler knows this connection).
    var isWebSocket: Bool { get { flags.contains(.isWebSocket) } set { flags.set(.isWebSocket, newValue) } }
    /// A request was handed to the handler, which will answer later: read nothing more.
    var isAwaitingResponse: Bool { get { flags.contains(.isAwaitingResponse) } set { flags.set(.isAwaitingResponse, newValue) } }
    /// Whether the awaited response keeps the connection open.
    var keepsAliveAfterResponse: Bool {
        get { flags.contains(.keepsAliveAfterResponse) }
        set { flags.set(.keepsAliveAfterResponse, newValue) }
    }
    /// Whether EPOLLOUT is armed.
    var isWaitingForWritable: Bool { get { flags.contains(.isWaitingForWritable) } set { flags.set(.isWaitingForWritable, newValue) } }
    /// Queued for this iteration's flush (in the loop's `dirty` list).
    var isDirty: Bool { get { flags.contains(.isDirty) } set { flags.set(.isDirty, newValue) } }
    /// A ping went out unanswered; `phaseDeadline` is when it times out.
    var isAwaitingPong: Bool { get { flags.contains(.isAwaitingPong) } set { flags.set(.isAwaitingPong, newValue) } }
    /// Whether the loop holds a TLS session for this connection (`EventLoop.tlsSessions`).
    var isTLS: Bool { flags.contains(.isTLS) }

    // MARK: - What is kept between reads

    /// The HTTP request being read, creating its record on the first bytes of one.
    var httpCarry: HTTPCarry {
        if case .http(let kept)? = carry { return kept }
        let fresh = HTTPCarry()
        carry = .http(fresh)
        return fresh
    }

    /// Request bytes split over reads (HTTP phase only); empty when none.
    var inbound: [UInt8] {
        if case .http(let kept)? = carry { return kept.inbound }
        return []
    }

    /// Drops the HTTP phase's record once it holds no request bytes: the scan position
    /// and parsed head only describe bytes in `inbound`.
    func releaseHTTPCarryIfEmpty() {
        if case .http(let kept)? = carry, kept.inbound.isEmpty { carry = nil }
    }

    /// The WebSocket reader kept while it holds state between reads, or nil.
    var reader: MessageReaderBox? {
        get { if case .frames(let kept)? = carry { return kept } else { return nil } }
        set { carry = newValue.map { .frames($0) } }
    }
}

extension Connection.Flags {
    @inline(__always) mutating func set(_ flag: Connection.Flags, _ on: Bool) {
        if on { insert(flag) } else { remove(flag) }
    }
}

/// What a connection keeps between reads, by phase: the HTTP phase's partly read request,
/// or the WebSocket phase's reader mid-frame or mid-message. The two never coexist (the
/// upgrade ends the first before the second begins), so one field holds either, in one
/// word.
enum InboundCarry {
    case http(HTTPCarry)
    case frames(MessageReaderBox)
}

/// A reader kept between reads (see `Connection.reader`), boxed so it is read in place:
/// a frame or fragmented message split across reads, or an inflater of its own.
final class MessageReaderBox {
    var reader: MessageReader
    init(_ reader: MessageReader) { self.reader = reader }
}

/// How a connection's reader inflates compressed messages.
enum ReaderInflation: UInt8 {
    case none
    case shared
    case own
}

/// A request partly read: its bytes so far (they arrived over several reads, or wait
/// behind a request whose answer is deferred), how far its head has been scanned (so
/// bytes that arrive one read at a time are each looked at once) and, once complete, the
/// head while its body arrives.
final class HTTPCarry {
    var inbound: [UInt8] = []
    var headScanner = HTTPHeadScanner()
    var parsedHead: (head: HTTPRequestHead, length: Int)?

    /// The current request is complete: the next one is scanned from its own start.
    func finishRequest() {
        headScanner = HTTPHeadScanner()
        parsedHead = nil
    }
}
