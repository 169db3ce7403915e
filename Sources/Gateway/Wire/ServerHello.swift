/// The first message on every `/ws` connection, before sign-in:
/// `{"type":"hello","protocol":"presence.v1",…}`. It carries no `seq` (there is no
/// session yet) and no `id` (nobody asked).
public struct ServerHello: Hashable, Sendable {
    /// The server's name and version, for support ("presenced/1.2.0").
    public var server: String
    /// The client sends `heartbeat` at least this often. Shorter than the transport's
    /// 30 s ping interval, so a healthy client is never pinged.
    public var heartbeatSeconds: Int
    /// How long after a drop a `resume` can still succeed (the core's disconnect grace).
    public var resumeWindowSeconds: Int
    /// How long the connection may stay unsigned-in before close 4005.
    public var signInTimeoutSeconds: Int
    /// The value limits the decoder enforces.
    public var limits: WireLimits

    /// Creates a hello with the documented defaults.
    public init(server: String, heartbeatSeconds: Int = 25, resumeWindowSeconds: Int = 30,
                signInTimeoutSeconds: Int = 10, limits: WireLimits = WireLimits()) {
        self.server = server
        self.heartbeatSeconds = heartbeatSeconds
        self.resumeWindowSeconds = resumeWindowSeconds
        self.signInTimeoutSeconds = signInTimeoutSeconds
        self.limits = limits
    }

    /// The message's bytes; the same for every connection, so encode it once.
    public func encoded() -> [UInt8] {
        var json = JSONWriter(capacity: 320)
        json.beginObject()
        json.key("type"); json.string("hello")
        json.key("protocol"); json.string(WireProtocol.subprotocol)
        json.key("server"); json.string(server)
        json.key("heartbeatSeconds"); json.number(heartbeatSeconds)
        json.key("resumeWindowSeconds"); json.number(resumeWindowSeconds)
        json.key("signInTimeoutSeconds"); json.number(signInTimeoutSeconds)
        json.key("limits")
        json.beginObject()
        json.key("messageBytes"); json.number(WireProtocol.maxMessageBytes)
        json.key("requestIdBytes"); json.number(limits.requestIDBytes)
        json.key("bodyBytes"); json.number(limits.bodyBytes)
        json.key("clientMessageIdBytes"); json.number(limits.clientMessageIDBytes)
        json.key("payloadBytes"); json.number(limits.payloadBytes)
        json.key("usersPerSubscribe"); json.number(limits.usersPerSubscribe)
        json.key("historyLimit"); json.number(limits.maxHistoryLimit)
        json.endObject()
        json.endObject()
        return json.bytes
    }
}
