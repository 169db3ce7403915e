/// Every way a client message can be refused by the wire layer itself, before any domain
/// code sees it. None of them closes the connection: each becomes an `error` reply (see
/// `ErrorReply`), and `code` is the one place that names it on the wire.
public enum WireError: Error, Hashable, Sendable {
    /// The text frame is not valid JSON (or breaks our strict reading of it: duplicate
    /// member names, nesting deeper than 32). The reply's `id` is null.
    case malformedJSON(detail: String)
    /// Valid JSON, but not an object. The reply's `id` is null.
    case notAnObject
    /// `id` is missing, not a string, empty or longer than 64 bytes. The reply's `id` is null.
    case invalidRequestID
    /// A binary frame arrived; the protocol speaks text frames only. The reply's `id` is null.
    case binaryFrame
    /// `op` names no operation of `presence.v1`.
    case unknownOp(String)
    /// A required field is absent.
    case missingField(String)
    /// A field this op does not define. Strict on purpose: a misspelt optional field would
    /// otherwise be ignored silently.
    case unknownField(String)
    /// A field has the wrong JSON type (`null` included).
    case wrongType(field: String, expected: String)
    /// A string (or list) field is longer than its limit (bytes of UTF-8, or items).
    case valueTooLong(field: String, limit: Int)
    /// A field has the right type but a value outside what it allows (an unknown enum
    /// name, a number out of range, an empty string).
    case invalidValue(field: String, reason: String)
    /// A field that names a user is not an e-mail address.
    case invalidEmail(field: String)
    /// `updateProfile` named no field to change.
    case noChanges
    /// The op needs a signed-in session and this connection has none.
    case notSignedIn
    /// `signIn` or `resume` on a connection that already has a session.
    case alreadySignedIn
    /// A subscriber sign-in with a key the server does not know.
    case invalidSubscriberKey
    /// `resume` named a session whose missed events are no longer held: sign in afresh.
    case resumeImpossible
    /// The reset form's two new-password fields differ.
    case passwordMismatch
    /// HTTP: the body's `Content-Type` is not one the endpoint reads.
    case unsupportedMediaType(expected: String)
    /// HTTP: no endpoint at this path.
    case notFound
    /// HTTP: the endpoint exists but not for this method.
    case methodNotAllowed
    /// The server failed (storage, a bug). Safe to retry after `retryAfterSeconds`.
    case internalError(retryAfterSeconds: Int?)
    /// Too much work is queued for the presence thread; the op was not carried out.
    /// Safe to retry after a second.
    case overloaded

    /// The stable snake_case code of the error.
    public var code: String {
        switch self {
        case .malformedJSON: "malformed_json"
        case .notAnObject: "not_an_object"
        case .invalidRequestID: "invalid_id"
        case .binaryFrame: "binary_frame"
        case .unknownOp: "unknown_op"
        case .missingField: "missing_field"
        case .unknownField: "unknown_field"
        case .wrongType: "wrong_type"
        case .valueTooLong: "value_too_long"
        case .invalidValue: "invalid_value"
        case .invalidEmail: "invalid_email"
        case .noChanges: "no_changes"
        case .notSignedIn: "not_signed_in"
        case .alreadySignedIn: "already_signed_in"
        case .invalidSubscriberKey: "invalid_subscriber_key"
        case .resumeImpossible: "resume_impossible"
        case .passwordMismatch: "password_mismatch"
        case .unsupportedMediaType: "unsupported_media_type"
        case .notFound: "not_found"
        case .methodNotAllowed: "method_not_allowed"
        case .internalError: "internal_error"
        case .overloaded: "overloaded"
        }
    }

    /// A sentence for the developer or user.
    public var message: String {
        switch self {
        case .malformedJSON(let detail): "The message is not valid JSON: \(detail)."
        case .notAnObject: "A message must be one JSON object."
        case .invalidRequestID: "The field \"id\" must be a string of 1 to 64 bytes."
        case .binaryFrame: "Binary frames are not part of presence.v1; send JSON in text frames."
        case .unknownOp(let name): "There is no op named \"\(Self.clipped(name))\"."
        case .missingField(let field): "The field \"\(field)\" is required."
        case .unknownField(let field): "The field \"\(Self.clipped(field))\" is not part of this op."
        case .wrongType(let field, let expected): "The field \"\(field)\" must be \(expected)."
        case .valueTooLong(let field, let limit): "The field \"\(field)\" is longer than its limit of \(limit)."
        case .invalidValue(let field, let reason): "The field \"\(field)\" \(reason)."
        case .invalidEmail(let field): "The field \"\(field)\" must be an e-mail address."
        case .noChanges: "Name at least one of firstName, lastName and offlineEmail."
        case .notSignedIn: "Sign in first."
        case .alreadySignedIn: "This connection is already signed in."
        case .invalidSubscriberKey: "The subscriber key is not valid."
        case .resumeImpossible: "The session cannot be resumed. Sign in again."
        case .passwordMismatch: "The two passwords are not the same."
        case .unsupportedMediaType(let expected): "The body must be \(expected)."
        case .notFound: "There is nothing at this address."
        case .methodNotAllowed: "This address does not accept this method."
        case .internalError: "The server could not complete the request. Try again."
        case .overloaded: "The server is too busy to take this now; nothing was done. Try again shortly."
        }
    }

    /// The field the error is about, when there is one.
    public var field: String? {
        switch self {
        case .missingField(let field), .unknownField(let field): field
        case .wrongType(let field, _), .valueTooLong(let field, _), .invalidValue(let field, _): field
        case .invalidEmail(let field): field
        case .invalidRequestID: "id"
        default: nil
        }
    }

    /// A hostile client may send a megabyte-long name; the echo in the message is capped.
    private static func clipped(_ text: String) -> String {
        text.utf8.count <= 64 ? text : String(decoding: text.utf8.prefix(61), as: UTF8.self) + "..."
    }
}
