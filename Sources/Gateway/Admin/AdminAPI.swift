import Presence
import Transport
import WebSocket

/// The operator's endpoints on the running gateway, behind `Authorization: Bearer <token>`
/// (the `admin-token` setting; without one they do not exist and answer 404):
///
/// - `GET /admin/sessions`: every session, live or in its grace period.
/// - `POST /admin/sessions/<id>/kick`: ends a session (the client gets 4000 and stops).
/// - `GET /admin/presence?user=<email>`: a user's effective presence and why.
///
/// `presencectl sessions list|kick` and `presencectl presence why` call them.
enum AdminAPI {
    /// What an operator asks the presence thread.
    enum Query: Sendable {
        case sessions
        case kick(SessionID)
        case explain(UserID)
    }

    /// What to do with an admin request.
    enum Decision {
        case ask(Query)
        case refuse(HTTPResponse)
    }

    /// The query an admin request asks for, or the response that refuses it.
    static func query(for request: HTTPRequest, token: String?) -> Decision {
        guard let token else { return .refuse(HTTPWire.errorResponse(ErrorReply(WireError.notFound))) }
        let presented = request.head.value("Authorization") ?? ""
        guard isEqualInConstantTime(presented, "Bearer " + token) else {
            var refusal = HTTPWire.errorResponse(ErrorReply(code: "unauthorized", message: "A valid admin token is required.",
                                                            httpStatus: 401))
            refusal.headers.append(("WWW-Authenticate", "Bearer"))
            return .refuse(refusal)
        }
        let parts = request.head.path.split(separator: "/")
        switch (request.head.method, parts.count) {
        case ("GET", 2) where parts[1] == "sessions":
            return .ask(.sessions)
        case ("POST", 4) where parts[1] == "sessions" && parts[3] == "kick":
            guard let id = UInt64(parts[2]) else { return .refuse(badRequest("the session must be a number")) }
            return .ask(.kick(SessionID(id)))
        case ("GET", 2) where parts[1] == "presence":
            let user = request.head.query?.split(separator: "&").first { $0.hasPrefix("user=") }
                .map { String($0.dropFirst(5)).removingPercentEncoding() }
            guard let user, let id = UserID(email: user) else { return .refuse(badRequest("give user=<email>")) }
            return .ask(.explain(id))
        default:
            return .refuse(HTTPWire.errorResponse(ErrorReply(WireError.notFound)))
        }
    }

    static func badRequest(_ message: String) -> HTTPResponse {
        HTTPWire.errorResponse(ErrorReply(code: "bad_request", message: message, httpStatus: 400))
    }

    /// Compares without stopping at the first difference, so timing tells nothing about
    /// how much of a guessed token was right.
    static func isEqualInConstantTime(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<min(x.count, y.count) { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    // MARK: - Responses (built on the presence thread)

    static func sessions(_ list: [SessionSummary], wall: WallTimeMapping, node: NodeQualifier = .single) -> HTTPResponse {
        var json = JSONWriter()
        json.beginObject()
        json.key("sessions")
        json.beginArray()
        for s in list { write(s, wall: wall, node: node, into: &json) }
        json.endArray()
        json.endObject()
        return HTTPWire.jsonResponse(200, json.bytes)
    }

    static func explanation(_ e: PresenceExplanation?, of user: UserID, wall: WallTimeMapping, node: NodeQualifier = .single) -> HTTPResponse {
        guard let e else {
            return HTTPWire.errorResponse(ErrorReply(code: "unknown_user", message: "\(user.email) has no presence on this gateway.",
                                                     httpStatus: 404))
        }
        var json = JSONWriter()
        json.beginObject()
        json.key("user"); json.string(e.user.email)
        json.key("seenByContacts"); json.string(e.seenByContacts.wireName)
        json.key("trueStatus"); json.string(e.trueStatus.wireName)
        json.key("chosen"); json.string(e.chosen.wireName)
        json.key("inCall"); json.bool(e.isInCall)
        json.key("rule"); json.string(e.rule)
        json.key("sessions")
        json.beginArray()
        for s in e.sessions { write(s, wall: wall, node: node, into: &json) }
        json.endArray()
        json.endObject()
        return HTTPWire.jsonResponse(200, json.bytes)
    }

    static func write(_ s: SessionSummary, wall: WallTimeMapping, node: NodeQualifier, into json: inout JSONWriter) {
        json.beginObject()
        json.key("session"); json.string(node.session(s.session))
        json.key("user")
        if let user = s.user { json.string(user.email) } else { json.null() }
        json.key("device"); json.string(s.device.wireName)
        json.key("connected"); json.bool(s.isConnected)
        json.key("idle"); json.bool(s.isIdle)
        json.key("lastActivity"); json.number(wall.wall(s.lastActivity).milliseconds)
        json.endObject()
    }
}

extension String {
    /// %XX decoding for a query value (`+` stays as is: e-mail addresses may hold one).
    func removingPercentEncoding() -> String {
        var bytes: [UInt8] = []
        var i = utf8.startIndex
        while i < utf8.endIndex {
            let c = utf8[i]
            if c == UInt8(ascii: "%"), let h = utf8.index(i, offsetBy: 2, limitedBy: utf8.endIndex), h < utf8.endIndex,
               let v = UInt8(String(decoding: utf8[utf8.index(after: i)...h], as: UTF8.self), radix: 16) {
                bytes.append(v)
                i = utf8.index(after: h)
            } else {
                bytes.append(c)
                i = utf8.index(after: i)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
