/// The tunable times and limits of the core. Every default is documented in
/// `Protocol/presence-rules.md`.
public struct PresenceConfiguration: Hashable, Sendable {
    /// How long a session may go without user activity before it counts as idle.
    /// Heartbeats are not activity. Default 5 minutes, as the product promises.
    public var idleAfter: Duration
    /// How long a session whose connection dropped keeps counting as present, waiting for
    /// the client to resume. Contacts see nothing if it resumes in time. Default 30 s.
    public var disconnectGrace: Duration
    /// How long the core waits after a user's visible state first changes before telling
    /// anyone, so contacts get the settled state once instead of every flip. `.zero`
    /// publishes at once. Default 1 s.
    public var debounce: Duration
    /// How long an unanswered call rings before it becomes a missed call. Default 45 s.
    public var ringTimeout: Duration
    /// How long a hidden user stays visible to a contact after acting toward them
    /// (chatting, inviting, answering). Default 10 minutes; an answered call keeps the
    /// reveal alive until it ends, and the window restarts then.
    public var revealDuration: Duration
    /// Events kept per session for resume. A client further behind than this must sign in
    /// afresh. Default 256.
    public var replayCapacity: Int
    /// Bytes of events (`Event.replayCost`) kept per session for resume, whatever their
    /// number: 256 chats of 16 KiB would otherwise pin 4 MiB per session. Default 64 KiB.
    /// Chats are durable, so a client past this signs in afresh and reads them from the
    /// backlog.
    public var replayByteCapacity: Int
    /// A connected session from which nothing (not even a `heartbeat`) arrives for this long
    /// ends with `CloseReason.heartbeatTimeout`. `.zero` turns the check off. The gateway
    /// sets it to two heartbeat intervals. Default off.
    public var silenceTimeout: Duration
    /// Sessions one user may hold (live or in grace). A sign-in beyond it ends the user's
    /// oldest session (one in grace first) with `CloseReason.sessionLimit`. Default 10.
    public var maxSessionsPerUser: Int
    /// Ops a session may send in a burst before it is limited (token bucket), and how many
    /// it gets back per second. Heartbeats and logging out never count. Past it, an op is
    /// refused `rateLimited` with the seconds until one is allowed again. 0 turns it off.
    /// Defaults 60 and 10.
    public var opBurst: Int
    public var opsPerSecond: Int
    /// Client message IDs remembered per sender for retry deduplication. Default 256.
    public var dedupeWindow: Int
    /// The largest chat body, in UTF-8 bytes. Default 16 KiB.
    public var maxMessageBytes: Int

    /// Creates a configuration; every argument has the documented default.
    public init(
        idleAfter: Duration = .seconds(300),
        disconnectGrace: Duration = .seconds(30),
        debounce: Duration = .seconds(1),
        ringTimeout: Duration = .seconds(45),
        revealDuration: Duration = .seconds(600),
        replayCapacity: Int = 256,
        replayByteCapacity: Int = 65_536,
        silenceTimeout: Duration = .zero,
        maxSessionsPerUser: Int = 10,
        opBurst: Int = 60,
        opsPerSecond: Int = 10,
        dedupeWindow: Int = 256,
        maxMessageBytes: Int = 16_384
    ) {
        self.idleAfter = idleAfter
        self.disconnectGrace = disconnectGrace
        self.debounce = debounce
        self.ringTimeout = ringTimeout
        self.revealDuration = revealDuration
        self.replayCapacity = replayCapacity
        self.replayByteCapacity = replayByteCapacity
        self.silenceTimeout = silenceTimeout
        self.maxSessionsPerUser = maxSessionsPerUser
        self.opBurst = opBurst
        self.opsPerSecond = opsPerSecond
        self.dedupeWindow = dedupeWindow
        self.maxMessageBytes = maxMessageBytes
    }
}
