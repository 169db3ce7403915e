/// Why the core refused a command. A refused command changed nothing (except
/// `resumeImpossible`, which ends the session it names). `code` is the one
/// place that names each error for the wire protocol, which answers with it and keeps the
/// connection open.
///
/// No error depends on another user's presence: a non-contact learns nothing whatever it
/// tries.
public enum PresenceError: Error, Hashable, Sendable {
    /// No such session (never signed in, or ended). On `resume` it means: sign in afresh.
    case unknownSession
    /// The sign-in did not carry `PresenceCore.nextSessionID` (a gateway bug).
    case sessionAlreadyExists
    /// A user op on a subscriber session, or a subscriber op on a user session.
    case wrongSessionKind
    /// `resume` or `heartbeat` acknowledged a sequence the session was never sent.
    case sequenceAhead
    /// The user named themselves.
    case cannotTargetSelf
    /// Chats, calls and removal need an accepted contact.
    case notAContact
    /// A request to someone who is already a contact.
    case alreadyContacts
    /// Accept or decline with no pending request from that user.
    case noPendingRequest
    /// The chat body exceeds `PresenceConfiguration.maxMessageBytes`.
    case messageTooLarge
    /// A commit outcome for a ticket the core does not know (already settled).
    case unknownMessageTicket
    /// An invite reused the ID of a call that still exists.
    case duplicateCall
    /// No such call (never existed, or over).
    case unknownCall
    /// The session is not the party this call op needs.
    case notCallParticipant
    /// The call is not in a state that allows this op (accepting an answered call,
    /// signalling before an answer).
    case callStateMismatch
    /// The inviting user is already in a call.
    case alreadyInCall
    /// A subscriber asked for a user outside its allowed set.
    case notPermitted
    /// `resume` came too far behind: the events it missed are no longer kept. Unlike the
    /// other refusals this one does change state: the session it named has ended (its
    /// effects must be carried out), and the client signs in afresh.
    case resumeImpossible
    /// The session sent more ops than `PresenceConfiguration.opBurst` allows; one is
    /// allowed again after `retryAfterSeconds`. Nothing was done.
    case rateLimited(retryAfterSeconds: Int)

    /// A stable, machine-readable name for the wire protocol.
    public var code: String {
        switch self {
        case .unknownSession: "unknown_session"
        case .sessionAlreadyExists: "session_exists"
        case .wrongSessionKind: "wrong_session_kind"
        case .sequenceAhead: "sequence_ahead"
        case .cannotTargetSelf: "cannot_target_self"
        case .notAContact: "not_a_contact"
        case .alreadyContacts: "already_contacts"
        case .noPendingRequest: "no_pending_request"
        case .messageTooLarge: "message_too_large"
        case .unknownMessageTicket: "unknown_message_ticket"
        case .duplicateCall: "duplicate_call"
        case .unknownCall: "unknown_call"
        case .notCallParticipant: "not_call_participant"
        case .callStateMismatch: "call_state_mismatch"
        case .alreadyInCall: "already_in_call"
        case .notPermitted: "not_permitted"
        case .resumeImpossible: "resume_impossible"
        case .rateLimited: "rate_limited"
        }
    }
}
