import Presence

/// Encodes the one reply every op gets: `{"type":"ok","id":…,…}` or
/// `{"type":"error","id":…,"code":…,"message":…}`, and the `closing` notice. Replies go
/// to one connection each, so they are built whole; they use the same byte writer as
/// events only for consistent escaping.
public enum ReplyEncoder {
    /// `{"type":"ok","id":…}`, for ops whose success carries nothing.
    public static func ok(id: String) -> [UInt8] {
        var json = begin("ok", id: id)
        json.endObject()
        return json.bytes
    }

    /// `{"type":"error","id":…|null,"code":…,"message":…[,"field":…][,"retryAfter":s]}`.
    public static func error(id: String?, _ reply: ErrorReply) -> [UInt8] {
        var json = begin("error", id: id)
        writeErrorMembers(reply, into: &json)
        json.endObject()
        return json.bytes
    }

    /// The error reply to a message the decoder refused.
    public static func rejection(_ rejected: RejectedRequest) -> [UInt8] {
        error(id: rejected.id, rejected.reply)
    }

    /// The reply to a successful `signIn`.
    public static func signIn(id: String, _ reply: SignInReply) -> [UInt8] {
        var json = begin("ok", id: id)
        json.key("session"); json.string(NodeQualifier(node: reply.resumeToken.node).session(reply.session))
        json.key("resumeToken"); json.string(reply.resumeToken.text)
        writePrincipal(reply.principal, into: &json)
        json.endObject()
        return json.bytes
    }

    /// The members a sign-in reply has after `resumeToken`, as JSON text without braces: an
    /// edge node writes them (it read the account) and the session's home splices them in
    /// (`SignInReply.Principal.encodedMembers`).
    public static func principalMembers(_ principal: SignInReply.Principal) -> [UInt8] {
        var json = JSONWriter(capacity: 160)
        writePrincipal(principal, into: &json)
        return json.bytes
    }

    static func writePrincipal(_ principal: SignInReply.Principal, into json: inout JSONWriter) {
        switch principal {
        case .user(let profile, let device, let deviceToken):
            json.key("profile"); profile.write(into: &json)
            json.key("device"); json.string(device.wireName)
            if let deviceToken {
                json.key("deviceToken"); json.string(deviceToken)
            }
        case .subscriber(let name, let allowed):
            json.key("subscriber")
            json.beginObject()
            json.key("name"); json.string(name)
            json.key("allowed"); EventEncoder.writeUsers(allowed, into: &json)
            json.endObject()
        case .encodedMembers(let bytes):
            json.rawMembers(bytes)
        }
    }

    /// The reply to a successful `resume`; the missed events follow it.
    public static func resume(id: String, session: SessionID, node: NodeQualifier = .single) -> [UInt8] {
        var json = begin("ok", id: id)
        json.key("session"); json.string(node.session(session))
        json.endObject()
        return json.bytes
    }

    /// The reply to `invite`: the call's ID, for `cancel`, `signal` and `hangUp`.
    public static func invite(id: String, call: CallID) -> [UInt8] {
        var json = begin("ok", id: id)
        json.key("call"); json.number(call.rawValue)
        json.endObject()
        return json.bytes
    }

    /// The reply to `updateProfile`: the saved profile. Close 4003 follows.
    public static func profile(id: String, _ profile: WireProfile) -> [UInt8] {
        var json = begin("ok", id: id)
        json.key("profile"); profile.write(into: &json)
        json.endObject()
        return json.bytes
    }

    /// The reply to `history`: one page, newest first.
    public static func history(id: String, _ page: HistoryPage) -> [UInt8] {
        var json = begin("ok", id: id)
        json.key("messages")
        json.beginArray()
        for message in page.messages {
            json.beginObject()
            EventEncoder.writeMessageFields(message, into: &json)
            json.endObject()
        }
        json.endArray()
        json.key("hasMore"); json.bool(page.hasMore)
        json.endObject()
        return json.bytes
    }

    /// `{"type":"closing","code":4003,"reason":…,"advice":…,"message":…}`, sent just
    /// before the Close frame so a client that only reads messages still learns why.
    public static func closing(_ code: GatewayCloseCode) -> [UInt8] {
        var json = JSONWriter(capacity: 160)
        json.beginObject()
        json.key("type"); json.string("closing")
        json.key("code"); json.number(Int(code.rawValue))
        json.key("reason"); json.string(code.reason)
        json.key("advice"); json.string(code.advice.rawValue)
        json.key("message"); json.string(code.message)
        json.endObject()
        return json.bytes
    }

    // MARK: - Pieces

    static func begin(_ type: StaticString, id: String?) -> JSONWriter {
        var json = JSONWriter(capacity: 160)
        json.beginObject()
        json.key("type"); json.string(String(describing: type))
        json.key("id")
        if let id { json.string(id) } else { json.null() }
        return json
    }

    static func writeErrorMembers(_ reply: ErrorReply, into json: inout JSONWriter) {
        json.key("code"); json.string(reply.code)
        json.key("message"); json.string(reply.message)
        if let field = reply.field {
            json.key("field"); json.string(field)
        }
        if let seconds = reply.retryAfterSeconds {
            json.key("retryAfter"); json.number(seconds)
        }
    }
}

/// What a successful `signIn` tells the client.
public struct SignInReply: Hashable, Sendable {
    /// Who signed in.
    public enum Principal: Hashable, Sendable {
        /// A user: the profile, the device kind the session counts as, and the new device
        /// token when the client asked to stay signed in (or signed in with a token, which
        /// rotates it).
        case user(WireProfile, device: Presence.DeviceKind, deviceToken: String?)
        /// A watch-only subscriber: its configured name and the users it may watch.
        case subscriber(name: String, allowed: [UserID])
        /// Either of the above as `ReplyEncoder.principalMembers` wrote it on another node.
        case encodedMembers([UInt8])
    }

    /// The new session.
    public var session: SessionID
    /// The credential for `resume`.
    public var resumeToken: ResumeToken
    /// Who signed in.
    public var principal: Principal

    /// Creates a reply.
    public init(session: SessionID, resumeToken: ResumeToken, principal: Principal) {
        self.session = session
        self.resumeToken = resumeToken
        self.principal = principal
    }
}

/// One page of `history`.
public struct HistoryPage: Hashable, Sendable {
    /// Newest first; the next page asks `before` the last one's `messageId`.
    public var messages: [ChatMessage]
    /// Whether older messages exist (the runtime asks storage for `limit + 1`).
    public var hasMore: Bool

    /// Creates a page.
    public init(messages: [ChatMessage], hasMore: Bool) {
        self.messages = messages
        self.hasMore = hasMore
    }
}
