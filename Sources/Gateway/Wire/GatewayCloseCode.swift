import Presence
import WebSocket

/// What a client does after the server closes the connection. Every close code maps to
/// exactly one; `Protocol/README.md` ("Close codes") has the table.
public enum ReconnectAdvice: String, Hashable, Sendable, CaseIterable {
    /// Reconnect after a randomized backoff, then `resume` (or sign in if that fails).
    case reconnectAndResume
    /// Reconnect and `signIn` afresh: with the device token if the client holds one,
    /// otherwise by asking the person for their password.
    case signInAgain
    /// Do not reconnect until the person acts.
    case stop
}

/// The application close codes of `presence.v1` (RFC 6455 §7.4.2: 4000-4999 are for
/// applications). One per `CloseReason`, plus the gateway's own sign-in timeout.
public enum GatewayCloseCode: UInt16, Hashable, Sendable, CaseIterable {
    /// The client logged out (`CloseReason.signedOut`).
    case signedOut = 4000
    /// The connection dropped and no resume came within the grace period
    /// (`CloseReason.sessionExpired`).
    case sessionExpired = 4001
    /// The client resumed too far behind; the missed events are gone
    /// (`CloseReason.resumeImpossible`).
    case resumeImpossible = 4002
    /// The profile or password changed; it applies at the next sign-in
    /// (`CloseReason.reauthenticate`). A device token that was not revoked still works.
    case reauthenticate = 4003
    /// The account was deleted (`CloseReason.accountDeleted`).
    case accountDeleted = 4004
    /// The connection did not sign in (or resume) within the sign-in timeout after `hello`.
    case signInTimeout = 4005
    /// Nothing, not even a `heartbeat`, arrived for two heartbeat intervals
    /// (`CloseReason.heartbeatTimeout`).
    case heartbeatTimeout = 4006
    /// A sign-in on another device went past the per-user session limit, and this was the
    /// oldest session (`CloseReason.sessionLimit`).
    case tooManySessions = 4007

    /// The code for a reason the presence core closes a session with.
    public init(_ reason: CloseReason) {
        switch reason {
        case .signedOut: self = .signedOut
        case .sessionExpired: self = .sessionExpired
        case .resumeImpossible: self = .resumeImpossible
        case .reauthenticate: self = .reauthenticate
        case .accountDeleted: self = .accountDeleted
        case .heartbeatTimeout: self = .heartbeatTimeout
        case .sessionLimit: self = .tooManySessions
        }
    }

    /// The code as the transport sends it.
    public var closeCode: CloseCode { CloseCode(rawValue) }

    /// The Close frame's reason text: a stable snake_case word (RFC 6455 §5.5 caps it at
    /// 123 bytes; clients should switch on the code, not this).
    public var reason: String {
        switch self {
        case .signedOut: "signed_out"
        case .sessionExpired: "session_expired"
        case .resumeImpossible: "resume_impossible"
        case .reauthenticate: "reauthenticate"
        case .accountDeleted: "account_deleted"
        case .signInTimeout: "sign_in_timeout"
        case .heartbeatTimeout: "heartbeat_timeout"
        case .tooManySessions: "too_many_sessions"
        }
    }

    /// The sentence of the `closing` message sent just before the Close frame.
    public var message: String {
        switch self {
        case .signedOut: "You signed out."
        case .sessionExpired: "Your session expired. Sign in again."
        case .resumeImpossible: "Too much was missed to resume. Sign in again."
        case .reauthenticate: "Your account changed. Sign in again to apply the change."
        case .accountDeleted: "Your account was deleted."
        case .signInTimeout: "No sign-in arrived in time."
        case .heartbeatTimeout: "Nothing arrived from this device for two heartbeat intervals. Sign in again."
        case .tooManySessions: "You signed in on too many devices; this one, the oldest, was signed out."
        }
    }

    /// What the client must do next.
    public var advice: ReconnectAdvice {
        switch self {
        case .signedOut, .accountDeleted, .tooManySessions: .stop
        case .sessionExpired, .resumeImpossible, .reauthenticate, .signInTimeout, .heartbeatTimeout: .signInAgain
        }
    }

    /// What a client does after any close code it may receive, the transport's included.
    /// Codes the server never sends read as `reconnectAndResume` for 1xxx server-side
    /// failures and `stop` for anything unknown, so a confused client does not loop.
    public static func advice(for code: CloseCode) -> ReconnectAdvice {
        if let gateway = GatewayCloseCode(rawValue: code.rawValue) { return gateway.advice }
        switch code.rawValue {
        // 1001 shutdown, 1006 dropped, 1011 server fault, 1012 restart, 1013 too slow.
        case 1001, 1006, 1011, 1012, 1013: return .reconnectAndResume
        // 1000 normal; 1002/1003/1007/1008/1009: the client broke the protocol, and
        // reconnecting would break it again.
        default: return .stop
        }
    }
}
