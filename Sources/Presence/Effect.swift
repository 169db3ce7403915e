/// Something the gateway must do. The core appends effects, in order, to a buffer the
/// caller owns and reuses; carrying them out in that order keeps every client's view
/// consistent.
public enum Effect: Equatable, Sendable {
    /// Encode `event` once and write it to each recipient, each with its own sequence.
    case deliver(Event, to: [Delivery])
    /// Close the session's connection (if it has one: `connection`, from its attachment)
    /// and forget the session.
    case close(SessionID, reason: CloseReason, connection: UInt64 = 0)
    /// Store the user's chosen status.
    case persistChosenStatus(UserID, ChosenStatus)
    /// Store a relationship change.
    case persistContact(ContactRecord)
    /// Commit a chat message, then report `Command.messageCommitted` or
    /// `Command.messageFailed` with its ticket. The sender is acked only after the commit.
    case persistMessage(OutgoingMessage)
    /// A session of the recipient acknowledged the message: leave it out of future sign-in
    /// backlogs. Idempotent.
    case markDelivered(MessageID, recipient: UserID)
    /// Record a missed call in the callee's history.
    case persistMissedCall(MissedCall)
    /// Queue the "you have new messages" e-mail. At most one per offline period.
    case sendOfflineMail(OfflineMail)
    /// Answer every `send` request waiting on this sender's client message ID, whether or
    /// not the sending session is still connected (or exists at all): the gateway's table
    /// of waiting requests is emptied by this effect and nothing else.
    case answerSend(sender: UserID, clientMessageID: String, outcome: SendOutcome)
    /// Carry `message` to presence shard `shard`, after every earlier message from this
    /// shard to that one, and apply it there as `Command.fromShard`. Only a core with
    /// more than one shard (`ShardPlacement`) emits it.
    case forward(ShardMessage, toShard: Int)
}

/// How a `send` ended.
public enum SendOutcome: Hashable, Sendable {
    /// Committed; the acknowledgement the sender gets.
    case accepted(ChatAck)
    /// The commit failed; nothing was stored.
    case failed
}

/// One recipient of a delivered event.
///
/// Sequences are per session, start at 1, and increase by one for every event the session
/// is sent, including those buffered while it was disconnected. The core assigns them when
/// it records the event for replay, so a resume replays exactly the events after the
/// client's last seen sequence; the gateway writes `sequence` into the envelope around the
/// shared encoded event.
public struct Delivery: Hashable, Sendable {
    /// The recipient session.
    public var session: SessionID
    /// The event's sequence number on that session.
    public var sequence: UInt64
    /// The session's connection (its attachment's), so the gateway writes without a lookup.
    public var connection: UInt64

    /// Creates a delivery.
    public init(session: SessionID, sequence: UInt64, connection: UInt64 = 0) {
        self.session = session
        self.sequence = sequence
        self.connection = connection
    }
}

/// What the client should do after a close.
public enum ClientAction: Hashable, Sendable {
    /// Connect again and sign in with the stored credential or device token.
    case signInAgain
    /// Ask the person to sign in with their password again.
    case reauthenticate
    /// Do not reconnect.
    case stop
}

/// Why the core ends a session. `clientAction` is the one place that decides what the
/// client does next; the wire protocol maps each reason to a close code.
public enum CloseReason: Hashable, Sendable {
    /// The client logged out.
    case signedOut
    /// The connection dropped and no resume came within the grace period.
    case sessionExpired
    /// The client resumed too far behind: the events it missed are gone.
    case resumeImpossible
    /// The profile changed; it applies at the next sign-in.
    case reauthenticate
    /// The account was deleted.
    case accountDeleted
    /// Nothing, not even a heartbeat, arrived for `PresenceConfiguration.silenceTimeout`.
    case heartbeatTimeout
    /// The user signed in on more devices than `PresenceConfiguration.maxSessionsPerUser`;
    /// this was the oldest session.
    case sessionLimit

    /// What the client should do next.
    public var clientAction: ClientAction {
        switch self {
        case .signedOut, .accountDeleted, .sessionLimit: .stop
        case .sessionExpired, .resumeImpossible, .heartbeatTimeout: .signInAgain
        case .reauthenticate: .reauthenticate
        }
    }
}

/// A relationship change to store, from the acting user's side.
public struct ContactRecord: Hashable, Sendable {
    /// The user who acted.
    public var user: UserID
    /// The other user.
    public var other: UserID
    /// The new state from `user`'s side, or `nil` when the relationship is gone.
    public var state: ContactState?

    /// Creates a record.
    public init(user: UserID, other: UserID, state: ContactState?) {
        self.user = user
        self.other = other
        self.state = state
    }
}

/// A chat message waiting to be committed.
public struct OutgoingMessage: Hashable, Sendable {
    /// Echo this back in `messageCommitted` or `messageFailed`.
    public var ticket: MessageTicket
    /// Who wrote it.
    public var sender: UserID
    /// Who it is for.
    public var recipient: UserID
    /// The sender's retry key; storage should also hold (sender, key) unique.
    public var clientMessageID: String
    /// The text.
    public var body: String
    /// When the core accepted the send.
    public var sentAt: Instant

    /// Creates a pending message.
    public init(ticket: MessageTicket, sender: UserID, recipient: UserID,
                clientMessageID: String, body: String, sentAt: Instant) {
        self.ticket = ticket
        self.sender = sender
        self.recipient = recipient
        self.clientMessageID = clientMessageID
        self.body = body
        self.sentAt = sentAt
    }
}

/// A call nobody answered (or the caller cancelled), for the callee's history.
public struct MissedCall: Hashable, Sendable {
    /// The call.
    public var call: CallID
    /// Who called.
    public var caller: UserID
    /// Who missed it.
    public var callee: UserID
    /// When it stopped ringing.
    public var at: Instant

    /// Creates a missed call.
    public init(call: CallID, caller: UserID, callee: UserID, at: Instant) {
        self.call = call
        self.caller = caller
        self.callee = callee
        self.at = at
    }
}

/// The single notification e-mail of an offline period.
///
/// The core emits it for the first message a logged-out recipient gets after their last
/// session ended, unless it knows their offline-mail flag is off. It may not know the flag
/// (the recipient has not signed in since the gateway started), so the mail worker checks
/// the stored flag before sending. Hidden users are not logged out and never get one.
public struct OfflineMail: Hashable, Sendable {
    /// The logged-out recipient.
    public var recipient: UserID
    /// The sender of the message that opened the offline period's mail.
    public var firstSender: UserID
    /// That message.
    public var firstMessage: MessageID

    /// Creates a notification.
    public init(recipient: UserID, firstSender: UserID, firstMessage: MessageID) {
        self.recipient = recipient
        self.firstSender = firstSender
        self.firstMessage = firstMessage
    }
}
