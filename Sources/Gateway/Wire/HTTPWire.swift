import WebSocket

/// Pure codecs of the gateway's HTTP endpoints (`Protocol/openapi.yaml`): request bodies
/// in, `HTTPResponse` out. Error bodies are `{"code":…,"message":…[,"field"][,"retryAfter"]}`
/// with the same codes as the WebSocket protocol.
public enum HTTPWire {
    /// `POST /v1/accounts`.
    public struct SignUpRequest: Hashable, Sendable {
        public var email: String
        public var password: String
        public var firstName: String
        public var lastName: String
        public var offlineEmail: Bool
    }

    /// `POST /v1/password-reset/confirm`.
    public struct ResetConfirmation: Hashable, Sendable {
        public var token: String
        public var newPassword: String
        /// Whether it came from the HTML form (answer with a page, not JSON).
        public var isFromForm: Bool
    }

    // MARK: - Requests

    /// Reads a sign-up body: `{"email","password","firstName","lastName"?,"offlineEmail"?}`.
    public static func decodeSignUp(_ body: [UInt8], contentType: String?, limits: WireLimits = WireLimits())
        throws(ErrorReply) -> SignUpRequest
    {
        var fields = try jsonFields(body, contentType: contentType)
        return try read { () throws(WireError) in
            let request = SignUpRequest(
                email: try fields.requiredString("email", maxBytes: limits.emailBytes),
                password: try fields.requiredString("password", maxBytes: limits.passwordBytes),
                firstName: try fields.requiredString("firstName", maxBytes: limits.nameBytes, allowsEmpty: true),
                lastName: try fields.optionalString("lastName", maxBytes: limits.nameBytes, allowsEmpty: true) ?? "",
                offlineEmail: try fields.optionalBool("offlineEmail") ?? false)
            try fields.rejectUnknown()
            return request
        }
    }

    /// Reads a reset request body: `{"email"}`. Returns the address as typed.
    public static func decodePasswordResetRequest(_ body: [UInt8], contentType: String?,
                                                  limits: WireLimits = WireLimits()) throws(ErrorReply) -> String {
        var fields = try jsonFields(body, contentType: contentType)
        return try read { () throws(WireError) in
            let email = try fields.requiredString("email", maxBytes: limits.emailBytes)
            try fields.rejectUnknown()
            return email
        }
    }

    /// Reads a reset confirmation: JSON `{"token","newPassword"}`, or the HTML form's
    /// `token`, `newPassword` and `confirmPassword` (which must match).
    public static func decodePasswordResetConfirm(_ body: [UInt8], contentType: String?,
                                                  limits: WireLimits = WireLimits()) throws(ErrorReply) -> ResetConfirmation {
        if mediaType(contentType) == "application/x-www-form-urlencoded" {
            let form = FormURLEncoding.decode(body)
            func field(_ name: String) throws(ErrorReply) -> String {
                guard let value = form.first(where: { $0.name == name })?.value, !value.isEmpty else {
                    throw ErrorReply(WireError.missingField(name))
                }
                guard value.utf8.count <= limits.passwordBytes else {
                    throw ErrorReply(WireError.valueTooLong(field: name, limit: limits.passwordBytes))
                }
                return value
            }
            let token = try field("token")
            let password = try field("newPassword")
            guard try field("confirmPassword") == password else { throw ErrorReply(WireError.passwordMismatch) }
            return ResetConfirmation(token: token, newPassword: password, isFromForm: true)
        }
        var fields = try jsonFields(body, contentType: contentType)
        return try read { () throws(WireError) in
            let confirmation = ResetConfirmation(
                token: try fields.requiredString("token", maxBytes: limits.tokenBytes),
                newPassword: try fields.requiredString("newPassword", maxBytes: limits.passwordBytes),
                isFromForm: false)
            try fields.rejectUnknown()
            return confirmation
        }
    }

    /// The `token` parameter of `GET /reset?token=…`, percent-decoded.
    public static func resetToken(fromQuery query: Substring?) -> String? {
        guard let query else { return nil }
        let token = FormURLEncoding.decode(Array(query.utf8)).first(where: { $0.name == "token" })?.value
        return token.flatMap { $0.isEmpty ? nil : $0 }
    }

    // MARK: - Responses

    /// `201 {"profile":{…}}` after sign-up.
    public static func signUpCreated(_ profile: WireProfile) -> HTTPResponse {
        var json = JSONWriter()
        json.beginObject()
        json.key("profile"); profile.write(into: &json)
        json.endObject()
        return jsonResponse(201, json.bytes)
    }

    /// `202` after a reset request: the same body whether or not the account exists.
    public static let passwordResetAccepted = jsonResponse(202, statusBody(
        "accepted", "If an account uses this address, a link to reset its password is on its way. The link is active for 24 hours."))

    /// `200` after a successful reset confirmation (JSON form).
    public static let passwordChanged = jsonResponse(200, statusBody(
        "passwordChanged", "Your password was changed. Sign in with the new password."))

    /// `GET /healthz`: the process is up.
    public static let healthy = jsonResponse(200, statusBody("ok", nil))

    /// `GET /readyz`: 200 when every check passes, else 503; the body names each check.
    public static func readiness(_ checks: [(name: String, isReady: Bool)]) -> HTTPResponse {
        let isReady = checks.allSatisfy(\.isReady)
        var json = JSONWriter()
        json.beginObject()
        json.key("status"); json.string(isReady ? "ready" : "notReady")
        json.key("checks")
        json.beginObject()
        for check in checks {
            json.dynamicKey(check.name)
            json.string(check.isReady ? "ok" : "failing")
        }
        json.endObject()
        json.endObject()
        return jsonResponse(isReady ? 200 : 503, json.bytes)
    }

    /// The JSON error body, with `Retry-After` when the reply has one.
    public static func errorResponse(_ reply: ErrorReply) -> HTTPResponse {
        var json = JSONWriter()
        json.beginObject()
        ReplyEncoder.writeErrorMembers(reply, into: &json)
        json.endObject()
        var response = jsonResponse(reply.httpStatus, json.bytes)
        if let seconds = reply.retryAfterSeconds { response.headers.append(("Retry-After", String(seconds))) }
        return response
    }

    /// The methods each fixed path of the public listener answers; nil for a path that does
    /// not exist there. Any other method on these paths gets `405` with `Allow`.
    public static func allowedMethods(forPath path: String) -> [String]? {
        switch path {
        case "/v1/accounts", "/v1/password-reset", "/v1/password-reset/confirm": return ["POST"]
        case "/healthz": return ["GET", "HEAD"]
        case "/readyz", "/reset", "/v1/client-config": return ["GET"]
        default: return nil
        }
    }

    /// `405 method_not_allowed` with the `Allow` header (RFC 9110 §15.5.6).
    public static func methodNotAllowed(_ allowed: [String]) -> HTTPResponse {
        var response = errorResponse(ErrorReply(WireError.methodNotAllowed))
        response.headers.append(("Allow", allowed.joined(separator: ", ")))
        return response
    }

    /// A JSON response that no cache keeps.
    public static func jsonResponse(_ status: Int, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
                     body: body)
    }

    // MARK: - Pieces

    static func statusBody(_ status: String, _ message: String?) -> [UInt8] {
        var json = JSONWriter()
        json.beginObject()
        json.key("status"); json.string(status)
        if let message {
            json.key("message"); json.string(message)
        }
        json.endObject()
        return json.bytes
    }

    /// The media type without parameters, lowercased.
    static func mediaType(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        let type = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        return type.trimmingCharacters(in: " \t").lowercased()
    }

    private static func jsonFields(_ body: [UInt8], contentType: String?) throws(ErrorReply) -> MessageFields {
        guard mediaType(contentType) == "application/json" else {
            throw ErrorReply(WireError.unsupportedMediaType(expected: "application/json"))
        }
        let root: JSONValue
        do {
            root = try JSONParser.parse(body)
        } catch {
            throw ErrorReply(WireError.malformedJSON(detail: "\(error.reason) at byte \(error.offset)"))
        }
        guard case .object(let members) = root else { throw ErrorReply(WireError.notAnObject) }
        return MessageFields(members)
    }

    private static func read<T>(_ body: () throws(WireError) -> T) throws(ErrorReply) -> T {
        do { return try body() } catch { throw ErrorReply(error) }
    }
}

extension String {
    /// Drops `characters` from both ends.
    fileprivate func trimmingCharacters(in characters: String) -> String {
        var text = Substring(self)
        while let first = text.first, characters.contains(first) { text = text.dropFirst() }
        while let last = text.last, characters.contains(last) { text = text.dropLast() }
        return String(text)
    }
}
