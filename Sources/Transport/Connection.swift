import WebSocket

/// Everything the transport keeps for one socket.
///
/// Kept small and flat: an idle WebSocket owns no buffers at all. Input is read into the
/// loop's shared buffer and parsed in place; output is gathered in the loop's shared
/// outbound queue and written once per loop iteration; only bytes a socket would not take
/// (a slow reader) or a request head split over reads are copied into this object.
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

    let fd: Int32
    let generation: UInt32
    /// The client's address: the peer's, or from the upgrade on the address a trusted
    /// proxy forwarded (`EventLoop.clientAddress(of:_:)`). The per-address connection count
    /// is held under this address.
    var remoteAddress: String
    var state: State = .http
    /// Close the socket as soon as everything queued is written.
    var closeAfterFlush = false
    /// We closed for a protocol violation (or refused a request): once our Close (or error
    /// answer) is written, half-close and read and discard until the peer closes or the
    /// close timeout passes (a lingering close), so a peer still sending reads why instead
    /// of meeting a TCP reset.
    var lingers = false
    /// Our side of the TCP stream is shut (`SHUT_WR`) while lingering.
    var isHalfClosed = false
    /// The WebSocket Close code already reported to the handler (once).
    var reportedClose = false
    /// Whether the upgrade completed (the handler knows this connection).
    var isWebSocket = false
    /// The route number the handler gave at upgrade.
    var route: Int32 = 0
    /// One word the handler keeps for this connection (the gateway: its sign-in phase and
    /// session), so no handler needs a table keyed by connection. 0 when never set.
    var handlerWord: UInt64 = 0
    /// The index of the endpoint it was accepted on (`ServerConfiguration.endpoints`).
    var endpoint: UInt8 = 0

    /// A request was handed to the handler, which will answer later: read nothing more.
    var isAwaitingResponse = false
    /// Whether the awaited response keeps the connection open.
    var keepsAliveAfterResponse = false
    /// Request bytes split over reads (HTTP phase only).
    var inbound: [UInt8] = []
    /// The request being read, while one is partly read (HTTP phase only): boxed, so an
    /// idle or upgraded connection carries 8 bytes for it, not ~110.
    var request: RequestProgress?
    /// The WebSocket reader (frames to messages) while it holds state between reads: a
    /// frame or fragmented message split across reads, or an inflater of its own. `nil` at
    /// rest, which is nearly always: each read then starts from a fresh reader made from
    /// the settings below (`EventLoop.makeReader`), so an idle connection carries 8 bytes
    /// for it instead of 153.
    var reader: MessageReaderBox?
    /// The route's frame and message limits (at most 4 GiB each), for fresh readers.
    var maxFrameSize: UInt32 = 0
    var maxMessageSize: UInt32 = 0
    /// How a fresh reader inflates: permessage-deflate not negotiated, through the loop's
    /// shared inflater (client_no_context_takeover), or through one of its own.
    var inflation = ReaderInflation.none
    /// The window the loop's shared deflater uses for this connection, when compressing.
    var deflateWindowBits: Int = 0

    /// Wire bytes the socket has not taken yet.
    var pending = PendingBytes()
    /// The most wire bytes `pending` may hold before the reader counts as too slow.
    var maxBufferedBytes = 0
    /// Whether EPOLLOUT is armed.
    var isWaitingForWritable = false

    /// The index of this connection's buffer in the loop's outbound queue this iteration
    /// (-1: nothing queued).
    var queueHead: Int32 = -1
    var isDirty = false

    /// Last time bytes arrived (loop clock, ms).
    var lastReceived: Int64
    /// When a ping went out unanswered, or 0.
    var pingSentAt: Int64 = 0
    /// When the current phase times out (request, close handshake), or 0.
    var phaseDeadline: Int64 = 0
    /// The wheel tick of this connection's live timer entry, or -1.
    var filedTick: Int64 = -1

    let tls: TLSSession?

    init(fd: Int32, generation: UInt32, remoteAddress: String, tls: TLSSession?, now: Int64) {
        self.fd = fd
        self.generation = generation
        self.remoteAddress = remoteAddress
        self.tls = tls
        self.lastReceived = now
    }

    var bufferedBytes: Int { pending.count }

    /// The token epoll and the timer wheel carry for this connection.
    var token: UInt64 { UInt64(generation) << 32 | UInt64(UInt32(bitPattern: fd)) }
}

/// A reader kept between reads (see `Connection.reader`), boxed so it is read in place.
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

/// A request partly read: how far its head has been scanned (so bytes that arrive one read
/// at a time are each looked at once) and, once complete, the head while its body arrives.
final class RequestProgress {
    var headScanner = HTTPHeadScanner()
    var parsedHead: (head: HTTPRequestHead, length: Int)?
}
