import Accounts
import Presence

/// A client message the decoder refused: the reply to send, and the request `id` to echo
/// when one could be read (`nil` becomes `"id": null`). The connection stays open.
public struct RejectedRequest: Error, Hashable, Sendable {
    /// The request's `id`, if the message had a valid one.
    public var id: String?
    /// What the `error` reply says.
    public var reply: ErrorReply

    /// Creates a refusal.
    public init(id: String?, reply: ErrorReply) {
        self.id = id
        self.reply = reply
    }
}

/// Turns one text frame into a validated `ClientRequest`: an op that is a core command
/// comes out as that `Command`, from the session the connection holds. Pure: no state
/// between frames.
///
/// Order of checks, so the reported problem is predictable: JSON syntax, object, `id`,
/// `op`, then the op's fields in their documented order, then unknown fields.
public struct ClientOpDecoder: Sendable {
    /// The bounds on client values.
    public var limits: WireLimits

    /// Creates a decoder with `limits`.
    public init(limits: WireLimits = WireLimits()) {
        self.limits = limits
    }

    /// Decodes a text frame's payload.
    /// - Parameters:
    ///   - text: the frame's payload.
    ///   - session: the session the connection holds, which the decoded command names.
    ///     Before sign-in any value will do: every op but `signIn` and `resume` is then
    ///     refused with `not_signed_in` before it reaches the core.
    public func decode(_ text: UnsafeRawBufferPointer, from session: SessionID) throws(RejectedRequest) -> ClientRequest {
        let root: JSONValue
        do {
            root = try JSONParser.parse(text)
        } catch {
            throw RejectedRequest(id: nil, reply: ErrorReply(.malformedJSON(detail: "\(error.reason) at byte \(error.offset)")))
        }
        guard case .object(let members) = root else { throw RejectedRequest(id: nil, reply: ErrorReply(.notAnObject)) }
        var fields = MessageFields(members)
        guard case .string(let id)? = fields.value("id"), !id.isEmpty, id.utf8.count <= limits.requestIDBytes else {
            throw RejectedRequest(id: nil, reply: ErrorReply(.invalidRequestID))
        }
        do {
            let op = try decodeOp(&fields, from: session)
            try fields.rejectUnknown()
            return ClientRequest(id: id, op: op)
        } catch let error as WireError {
            throw RejectedRequest(id: id, reply: ErrorReply(error))
        } catch let reply as ErrorReply {
            throw RejectedRequest(id: id, reply: reply)
        } catch {
            throw RejectedRequest(id: id, reply: ErrorReply(any: error))
        }
    }

    /// Decodes a text frame's payload (see `decode(_:from:)`).
    public func decode(_ text: [UInt8], from session: SessionID) throws(RejectedRequest) -> ClientRequest {
        let result = text.withUnsafeBytes { bytes in Result { () throws(RejectedRequest) in try decode(bytes, from: session) } }
        return try result.get()
    }

    /// The refusal of a binary frame; the protocol speaks text frames only.
    public static let binaryFrameRejection = RejectedRequest(id: nil, reply: ErrorReply(.binaryFrame))

    // MARK: - Ops

    private func decodeOp(_ fields: inout MessageFields, from session: SessionID) throws -> ClientOp {
        guard let opValue = fields.value("op") else { throw WireError.missingField("op") }
        guard case .string(let name) = opValue else { throw WireError.wrongType(field: "op", expected: "a string") }
        let limits = limits
        switch name {
        case "signIn":
            return .signIn(try decodeCredential(&fields))
        case "resume":
            return .resume(resumeToken: try fields.requiredString("resumeToken", maxBytes: limits.tokenBytes),
                           lastSeq: try fields.requiredInteger("lastSeq", in: 0...largestExactInteger))
        case "logOut":
            return .command(.signOut(session))
        case "setStatus":
            return .command(.setStatus(session, try fields.requiredEnum("status", ChosenStatus.allCases.map(\.wireName),
                                                                        ChosenStatus.init(wireName:))))
        case "activity":
            return .command(.activity(session))
        case "heartbeat":
            return .command(.heartbeat(session, lastSeenSequence: try fields.requiredInteger("lastSeq", in: 0...largestExactInteger)))
        case "requestContact":
            return .command(.requestContact(session, try fields.requiredUser("user", maxBytes: limits.emailBytes)))
        case "acceptContact":
            return .command(.acceptContact(session, try fields.requiredUser("user", maxBytes: limits.emailBytes)))
        case "declineContact":
            return .command(.declineContact(session, try fields.requiredUser("user", maxBytes: limits.emailBytes)))
        case "removeContact":
            return .command(.removeContact(session, try fields.requiredUser("user", maxBytes: limits.emailBytes)))
        case "send":
            let to = try fields.requiredUser("to", maxBytes: limits.emailBytes)
            let clientMessageID = try fields.requiredString("clientMessageId", maxBytes: limits.clientMessageIDBytes)
            // Empty bodies are refused: they would show as nothing on every device.
            let body = try fields.requiredString("body", maxBytes: limits.bodyBytes)
            return .command(.send(session, to: to, clientMessageID: clientMessageID, body: body))
        case "history":
            let with = try fields.requiredUser("with", maxBytes: limits.emailBytes)
            let before = try fields.optionalInteger("before", in: 1...largestExactInteger)
            let limit = try fields.optionalInteger("limit", in: 1...UInt64(limits.maxHistoryLimit))
            return .account(.history(with: with, before: before.map(MessageID.init),
                                     limit: limit.map(Int.init) ?? limits.defaultHistoryLimit))
        case "invite":
            let to = try fields.requiredUser("to", maxBytes: limits.emailBytes)
            let payload = try fields.payload(isRequired: false, maxBytes: limits.payloadBytes)
            return .command(.invite(session, callee: to, call: ClientOp.unassignedCall, payload: payload))
        case "ringing":
            return .command(.ringing(session, try fields.requiredCall()))
        case "accept":
            let call = try fields.requiredCall()
            return .command(.accept(session, call, payload: try fields.payload(isRequired: false, maxBytes: limits.payloadBytes)))
        case "decline":
            return .command(.decline(session, try fields.requiredCall()))
        case "cancel":
            return .command(.cancel(session, try fields.requiredCall()))
        case "hangUp":
            return .command(.hangUp(session, try fields.requiredCall()))
        case "signal":
            let call = try fields.requiredCall()
            return .command(.signal(session, call, payload: try fields.payload(isRequired: true, maxBytes: limits.payloadBytes)))
        case "subscribe":
            let users = try fields.requiredUsers("users", maxCount: limits.usersPerSubscribe, maxBytes: limits.emailBytes)
            return .command(.subscribe(session, users))
        case "unsubscribe":
            let users = try fields.requiredUsers("users", maxCount: limits.usersPerSubscribe, maxBytes: limits.emailBytes)
            return .command(.unsubscribe(session, users))
        case "updateProfile":
            return .account(.updateProfile(try decodeProfileChanges(&fields)))
        case "changePassword":
            return .account(.changePassword(currentPassword: try fields.requiredString("currentPassword", maxBytes: limits.passwordBytes),
                                            newPassword: try fields.requiredString("newPassword", maxBytes: limits.passwordBytes)))
        case "deleteAccount":
            return .account(.deleteAccount(password: try fields.requiredString("password", maxBytes: limits.passwordBytes)))
        case "changeEmail":
            // The e-mail is the account's ID: there is nothing to validate, the answer is
            // always the same, and it tells the user what to do instead.
            throw ErrorReply(AccountsError.emailCannotChange)
        default:
            throw WireError.unknownOp(name)
        }
    }

    private func decodeCredential(_ fields: inout MessageFields) throws(WireError) -> SignInCredential {
        let methods = ["password", "token", "google", "subscriber"]
        let method = try fields.requiredEnum("method", methods) { methods.contains($0) ? $0 : nil }
        switch method {
        case "password":
            return .password(email: try fields.requiredString("email", maxBytes: limits.emailBytes),
                             password: try fields.requiredString("password", maxBytes: limits.passwordBytes),
                             device: try fields.requiredDevice(),
                             staySignedIn: try fields.optionalBool("staySignedIn") ?? false)
        case "token":
            return .deviceToken(try fields.requiredString("deviceToken", maxBytes: limits.tokenBytes),
                                device: try fields.optionalDevice())
        case "google":
            return .google(idToken: try fields.requiredString("idToken", maxBytes: limits.idTokenBytes),
                           device: try fields.requiredDevice(),
                           staySignedIn: try fields.optionalBool("staySignedIn") ?? false)
        default:
            return .subscriber(key: try fields.requiredString("key", maxBytes: limits.tokenBytes))
        }
    }

    private func decodeProfileChanges(_ fields: inout MessageFields) throws -> ProfileChanges {
        if fields.contains("email") {
            var reply = ErrorReply(AccountsError.emailCannotChange)
            reply.field = "email"
            throw reply
        }
        let changes = ProfileChanges(
            firstName: try fields.optionalString("firstName", maxBytes: limits.nameBytes, allowsEmpty: true),
            lastName: try fields.optionalString("lastName", maxBytes: limits.nameBytes, allowsEmpty: true),
            offlineEmail: try fields.optionalBool("offlineEmail"))
        guard changes != ProfileChanges() else {
            try fields.rejectUnknown()  // an unknown field explains an empty change better
            throw WireError.noChanges
        }
        return changes
    }
}
