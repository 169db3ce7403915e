/// What one client loop does in one run: its share of the connections and the timeline.
/// Every duration is bounded, so a run ends by itself even if the server stops answering.
struct LoopPlan: Sendable {
    /// Connection i (global index) goes to `urls[i % urls.count]`.
    var urls: [WebSocketURL]
    /// Global indices `firstIndex ..< firstIndex + count` belong to this loop.
    var firstIndex: Int
    var count: Int
    /// The role of each connection of this loop.
    var role: ConnectionRole
    /// A global index that plays `.slow` instead of `role`, if any.
    var slowIndex: Int?
    var payloadSize: Int
    var inFlight: Int
    var offersDeflate: Bool
    /// Size and most messages the slow connection sends while it does not read.
    var slowMessageSize: Int
    var slowMessageLimit: Int
    var seed: UInt64
    var connectionsPerSourceAddress: Int
    /// Connections allowed in connect or handshake at once (the server's accept backlog).
    var connectConcurrency: Int
    /// How long connecting may take before the missing ones count as failed.
    var connectTimeoutNanos: UInt64
    /// Warm-up before measuring, the measured window, and the wait for late answers.
    var warmupNanos: UInt64
    var durationNanos: UInt64
    var drainNanos: UInt64
    /// Idle runs: the most time to hold the connections if the release never comes.
    var holdLimitNanos: UInt64
    /// The `Sec-WebSocket-Protocol` to offer and require (`presence.v1` on `/ws`), or nil.
    var subprotocol: String? = nil
    /// Signed-in scenarios (role `.user`): the users and what they do.
    var session: SessionPlan? = nil
}

extension WebSocketURL: @unchecked Sendable {}  // plain values (Strings, in_addr, UInt16); never shared mutably
