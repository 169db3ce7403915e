import Accounts
import Presence

/// What an `error` reply (and a JSON error body on the HTTP endpoints) says, whatever
/// layer refused the request: the wire decoder (`WireError`), the presence core
/// (`PresenceError`) or the account service (`AccountsError`). Their `code` strings are
/// reused unchanged, so one table in `Protocol/README.md` covers all three.
public struct ErrorReply: Error, Hashable, Sendable {
    /// The stable snake_case code.
    public var code: String
    /// A sentence for the user; never contains a secret.
    public var message: String
    /// Seconds to wait before trying again (`rate_limited`, `internal_error`).
    public var retryAfterSeconds: Int?
    /// The request field the error is about, when there is one.
    public var field: String?
    /// The status on the HTTP endpoints.
    public var httpStatus: Int

    /// Creates a reply from its parts.
    public init(code: String, message: String, retryAfterSeconds: Int? = nil, field: String? = nil, httpStatus: Int = 400) {
        self.code = code
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
        self.field = field
        self.httpStatus = httpStatus
    }

    /// A refusal of the wire layer.
    public init(_ error: WireError) {
        var status = 400
        var retryAfter: Int?
        switch error {
        case .notSignedIn: status = 401
        case .alreadySignedIn: status = 409
        case .invalidSubscriberKey: status = 401
        case .resumeImpossible: status = 410
        case .unsupportedMediaType: status = 415
        case .notFound: status = 404
        case .methodNotAllowed: status = 405
        case .internalError(let seconds): status = 500; retryAfter = seconds
        case .overloaded: status = 503; retryAfter = 1
        default: break
        }
        self.init(code: error.code, message: error.message, retryAfterSeconds: retryAfter, field: error.field,
                  httpStatus: status)
    }

    /// A refusal of the presence core.
    public init(_ error: PresenceError) {
        switch error {
        case .rateLimited(let seconds):
            self.init(code: error.code, message: Self.message(for: error), retryAfterSeconds: seconds, httpStatus: 429)
        case .notPermitted:
            self.init(code: error.code, message: Self.message(for: error), httpStatus: 403)
        case .resumeImpossible:
            self.init(code: error.code, message: Self.message(for: error), httpStatus: 410)
        default:
            self.init(code: error.code, message: Self.message(for: error), httpStatus: 409)
        }
    }

    /// A refusal of the account service. Its `code`, `message` and `httpStatus` decide.
    public init(_ error: AccountsError) {
        var retryAfter: Int?
        if case .rateLimited(let seconds) = error { retryAfter = seconds }
        self.init(code: error.code, message: error.message, retryAfterSeconds: retryAfter, httpStatus: error.httpStatus)
    }

    /// Wraps whatever a handler threw; anything unknown (a storage failure) becomes
    /// `internal_error`, which reveals nothing about the cause.
    public init(any error: any Error) {
        switch error {
        case let reply as ErrorReply: self = reply
        case let wire as WireError: self.init(wire)
        case let presence as PresenceError: self.init(presence)
        case let accounts as AccountsError: self.init(accounts)
        default: self.init(WireError.internalError(retryAfterSeconds: 1))
        }
    }

    /// The human text of each core refusal. The core's errors never depend on another
    /// user's presence, and neither do these sentences.
    static func message(for error: PresenceError) -> String {
        switch error {
        case .unknownSession: "This session is over. Sign in again."
        case .sessionAlreadyExists: "The server reused a session number. Sign in again."
        case .wrongSessionKind: "This op is not available to this kind of session."
        case .sequenceAhead: "lastSeq is higher than any event this session was sent."
        case .cannotTargetSelf: "You cannot do this with yourself."
        case .notAContact: "This needs an accepted contact."
        case .alreadyContacts: "You are already contacts."
        case .noPendingRequest: "There is no pending contact request from this user."
        case .messageTooLarge: "The message is too long."
        case .unknownMessageTicket: "The server lost track of a message. Send it again."
        case .duplicateCall: "The server reused a call number. Invite again."
        case .unknownCall: "There is no such call, or it is over."
        case .notCallParticipant: "You are not the party of this call that can do this."
        case .callStateMismatch: "The call is not in a state that allows this."
        case .alreadyInCall: "You are already in a call."
        case .notPermitted: "You are not allowed to watch one of these users."
        case .resumeImpossible: "The events missed since the connection dropped are gone; sign in again."
        case .rateLimited: "Too many requests from this session; wait before sending more."
        }
    }
}
