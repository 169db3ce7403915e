/// What a connection of a run is for.
enum ConnectionRole: UInt8 {
    /// Keeps `inFlight` echo messages outstanding and checks every answer.
    case echo
    /// Connects, answers pings, and otherwise stays silent.
    case idle
    /// Stops reading and sends large messages, so its echoes pile up on the server.
    case slow
    /// Signs in over presence.v1 as one load user and plays `LoopPlan.session`.
    case user
}

/// Where a connection stands. A slot moves forward only: connecting → handshaking → open
/// → closed (or failed at any step).
enum ConnectionPhase: UInt8 {
    case unused, connecting, handshaking, open, closed, failed
}

/// One connection's whole state: a small flat struct in a preallocated array, so holding
/// 100,000 idle connections costs no per-connection objects. The `MessageReader` lives in
/// an array of its own (see `ClientLoop.readers`) so that reading can update this slot.
struct ConnectionSlot {
    var fd: Int32 = -1
    var phase: ConnectionPhase = .unused
    var role: ConnectionRole = .idle
    /// Connect attempts so far (a new source address after EADDRNOTAVAIL).
    var attempts: UInt8 = 0
    var isDirty = false
    var isWaitingForWritable = false
    var isReadingPaused = false
    /// permessage-deflate was negotiated.
    var isCompressed = false
    /// The connection's number across all loops: picks its source address and handshake key.
    var globalIndex: Int = 0
    /// Response bytes until the end of the handshake head; empty afterwards.
    var handshake: [UInt8] = []
    /// Frames not yet taken by the socket, from `outboundStart`; capacity is kept.
    var outbound: [UInt8] = []
    var outboundStart = 0
    /// Echo messages sent, and answered in order.
    var sent: UInt32 = 0
    var answered: UInt32 = 0
    /// The Close code received from the server (0: none).
    var closeCode: UInt16 = 0
}
