/// Running totals of one event loop's WebSocket messages, kept as plain integers.
///
/// The loop bumps them on the per-message path; they are owned by the loop's thread like
/// everything else in `EventLoop`, so counting costs an add and no lock or atomic. The
/// handler reads them in its `tick(on:)` (same thread) and publishes them to whatever
/// metrics system it uses.
public struct LoopTraffic: Sendable, Equatable {
    /// Text and binary messages received (control frames excluded).
    public var messagesIn: UInt64 = 0
    /// Text and binary messages queued for sending (control frames excluded).
    public var messagesOut: UInt64 = 0
    /// Payload bytes of `messagesIn`, after inflation.
    public var bytesIn: UInt64 = 0
    /// Payload bytes of `messagesOut`, before compression.
    public var bytesOut: UInt64 = 0
    /// Requests from a trusted proxy whose `X-Forwarded-For` did not parse, so the peer's
    /// own address was used (`TrustedProxies.Resolution.malformed`).
    public var malformedForwardedFor: UInt64 = 0

    public init() {}
}
