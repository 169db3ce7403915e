/// Where a signed-in connection's protocol stands, after its WebSocket handshake.
enum SessionStage: UInt8 {
    /// Handshake done; the server's `hello` comes first.
    case awaitingHello
    /// `signIn` sent; the reply, then the `snapshot` event, follow.
    case signingIn
    case awaitingSnapshot
    /// `resume` sent; the reply, then the missed events, follow.
    case resuming
    /// Signed in (or resumed) and processing events.
    case ready
    /// The server refused the sign-in or the resume and no fallback is left.
    case refused
}

/// One user's connection state beyond the WebSocket slot: small and flat, in an array
/// parallel to `ClientLoop.slots` (connection i is user i).
struct UserConnection {
    var stage: SessionStage = .awaitingHello
    /// Counted in `ClientLoop.signingInCount` until ready or refused.
    var isSigningIn = false
    /// The next connect resumes instead of signing in (storm).
    var resumesNext = false
    /// Has (or had, in grace) a session on the server: contacts expect its deliveries.
    var hasSession = false
    var chosen: UserStatus = .online
    /// The highest event `seq` processed, and the highest acknowledged by a heartbeat.
    var lastSeq: UInt64 = 0
    var ackedSeq: UInt64 = 0
    /// When the signIn or resume request went out.
    var requestSentAt: UInt64 = 0
    /// Presence: the change in flight, when it was sent, and the contacts still to hear it.
    var changeSentAt: UInt64 = 0
    var changeTarget: UserStatus = .online
    var pendingDeliveries: Int32 = 0
    var isChangeMeasured = false
    /// Chat: sends so far (the next send's number).
    var chatSent: UInt64 = 0
}
