/// Everything that can happen to the core, other than time passing.
///
/// The gateway decodes a client frame, or a storage or account outcome, into one of these
/// and calls `PresenceCore.apply(_:at:into:)`. Commands named for a user op (status,
/// contacts, chats, call actions, `activity`) count as user activity for idle detection;
/// `heartbeat`, `resume`, `ringing` and `signal` are machine traffic and do not.
public enum Command: Sendable {
    /// A user session signs in. See `SignIn`.
    case signIn(SignIn)
    /// A watch-only principal (for example a clinic dashboard) signs in. It may later
    /// subscribe to any of `allowed`, never counts as presence, and cannot chat or call.
    case signInSubscriber(SessionID, allowed: Set<UserID>, attachment: SessionAttachment = .none)
    /// The client logged out. The session ends at once, without a grace period.
    case signOut(SessionID)
    /// The transport lost the connection. The session enters its grace period: it still
    /// counts as present and buffers events until it resumes or the grace runs out.
    case connectionLost(SessionID)
    /// A new connection takes over the session. `lastSeenSequence` is the highest event
    /// sequence the client received (0 for none); later events are replayed.
    /// `connection` is the new connection's packed ID for the session's attachment.
    case resume(SessionID, lastSeenSequence: UInt64, connection: UInt64 = 0)
    /// The client's keep-alive, acknowledging events up to `lastSeenSequence`. It frees
    /// replay space and marks acknowledged chat messages delivered. Not user activity.
    case heartbeat(SessionID, lastSeenSequence: UInt64)
    /// The user did something on this device (the client sends this on input).
    case activity(SessionID)
    /// The user picks a status; it is persisted and shared by all their devices.
    case setStatus(SessionID, ChosenStatus)
    /// Ask another user, by e-mail, to become a contact.
    case requestContact(SessionID, UserID)
    /// Accept a pending request from that user.
    case acceptContact(SessionID, UserID)
    /// Decline a pending request from that user.
    case declineContact(SessionID, UserID)
    /// Remove a contact, or withdraw or decline a pending request, with that user.
    case removeContact(SessionID, UserID)
    /// Send a chat to a contact. A repeated `clientMessageID` from the same user is a retry
    /// and is not stored twice.
    case send(SessionID, to: UserID, clientMessageID: String, body: String)
    /// Storage committed the message behind `MessageTicket` under `MessageID`.
    case messageCommitted(MessageTicket, MessageID)
    /// Storage could not commit the message behind `MessageTicket`.
    case messageFailed(MessageTicket)
    /// Ring a contact. The gateway picks `call`; `payload` (an SDP offer) passes through.
    case invite(SessionID, callee: UserID, call: CallID, payload: String)
    /// A callee device reports that it is ringing.
    case ringing(SessionID, CallID)
    /// The callee answers on this session; `payload` (an SDP answer) passes through.
    case accept(SessionID, CallID, payload: String)
    /// The callee declines.
    case decline(SessionID, CallID)
    /// The caller gives up before an answer.
    case cancel(SessionID, CallID)
    /// Either party ends an answered call (the caller may also use it to cancel).
    case hangUp(SessionID, CallID)
    /// An opaque signalling payload (ICE candidates, renegotiation) for the other party of
    /// an answered call.
    case signal(SessionID, CallID, payload: String)
    /// A subscriber session starts watching users; each must be in its allowed set.
    case subscribe(SessionID, [UserID])
    /// A subscriber session stops watching users.
    case unsubscribe(SessionID, [UserID])
    /// The user edited their profile or password. The offline-mail flag takes effect at
    /// once; every session of the user but `except` is closed with
    /// `CloseReason.reauthenticate`, because the product applies profile changes at the next
    /// sign-in. `except` is the session that changed the password: it proved the current
    /// one, so it stays (a profile edit and a password reset pass `nil`).
    case changeProfile(UserID, isOfflineMailEnabled: Bool, except: SessionID? = nil)
    /// The account is gone: sessions close with `CloseReason.accountDeleted`, calls end,
    /// contacts see the user go offline and then leave their lists.
    case deleteAccount(UserID)
    /// After a restart, before any sign-in: what contacts were shown of these users before
    /// the drain. They keep looking so until `until`; then those with no session are
    /// recomputed (offline) and published. See `PresenceCore.shownToContacts()`.
    case restoreShown([ShownPresence], until: Instant)
    /// Another presence shard's message (`Effect.forward`), in the order that shard sent it.
    case fromShard(ShardMessage)
}

/// What the gateway knows when a user session signs in. Storage is outside the core, so
/// the gateway loads the persisted parts and hands them over here.
public struct SignIn: Sendable {
    /// The new session's ID.
    public var session: SessionID
    /// The authenticated user.
    public var user: UserID
    /// The device the session runs on.
    public var device: DeviceKind
    /// The persisted chosen status. Ignored when the user already has a session, whose
    /// in-memory choice is newer.
    public var chosenStatus: ChosenStatus
    /// The profile's offline-e-mail flag.
    public var isOfflineMailEnabled: Bool
    /// The persisted contact list and pending requests. Pairs the core already knows about
    /// keep the core's state, which is newer than anything storage could have returned.
    public var contacts: [ContactEntry]
    /// Messages to this user that no session has acknowledged yet, oldest first. They are
    /// delivered after the snapshot, in order.
    public var backlog: [ChatMessage]
    /// What the gateway keeps with the session (its connection, resume secret, token row).
    public var attachment: SessionAttachment

    /// Creates a sign-in.
    public init(
        session: SessionID, user: UserID, device: DeviceKind,
        chosenStatus: ChosenStatus = .online, isOfflineMailEnabled: Bool = false,
        contacts: [ContactEntry] = [], backlog: [ChatMessage] = [], attachment: SessionAttachment = .none
    ) {
        self.attachment = attachment
        self.session = session
        self.user = user
        self.device = device
        self.chosenStatus = chosenStatus
        self.isOfflineMailEnabled = isOfflineMailEnabled
        self.contacts = contacts
        self.backlog = backlog
    }
}

/// One row of a user's contact list, from that user's side.
public struct ContactEntry: Hashable, Sendable {
    /// The other user.
    public var user: UserID
    /// Where the relationship stands.
    public var state: ContactState

    /// Creates an entry.
    public init(user: UserID, state: ContactState) {
        self.user = user
        self.state = state
    }
}

/// Where a relationship stands, from one side.
public enum ContactState: Hashable, Sendable {
    /// Both accepted; presence flows both ways.
    case accepted
    /// This side asked; the other has not answered.
    case requestedByMe
    /// The other side asked; this side has not answered.
    case requestedByThem
}

extension Command {
    /// The session that sent this command, if a client did (not for storage outcomes or
    /// account changes). Anything from a session counts as hearing from it.
    var session: SessionID? {
        switch self {
        case .signIn, .signInSubscriber, .messageCommitted, .messageFailed, .changeProfile, .deleteAccount,
             .connectionLost, .resume, .restoreShown, .fromShard:
            nil
        case .signOut(let s), .heartbeat(let s, _), .activity(let s), .setStatus(let s, _),
             .requestContact(let s, _), .acceptContact(let s, _), .declineContact(let s, _), .removeContact(let s, _),
             .send(let s, _, _, _), .invite(let s, _, _, _), .ringing(let s, _), .accept(let s, _, _),
             .decline(let s, _), .cancel(let s, _), .hangUp(let s, _), .signal(let s, _, _),
             .subscribe(let s, _), .unsubscribe(let s, _):
            s
        }
    }
}

extension Command {
    /// Whether this op spends from its session's op bucket. Heartbeats (the client must be
    /// able to keep its session and acknowledge) and logging out never do.
    var countsAgainstOpLimit: Bool {
        switch self {
        case .heartbeat, .signOut: false
        default: session != nil
        }
    }
}

extension Command {
    /// The shard a command belongs to: the user's home for a sign-in or an account change,
    /// the issuing shard of the session or ticket it names otherwise. A subscriber's
    /// sign-in goes wherever the gateway chose to issue its session ID; `restoreShown`
    /// goes to every shard (each keeps what it needs).
    public func shard(in placement: ShardPlacement) -> Int {
        switch self {
        case .signIn(let request): placement.home(of: request.user)
        case .changeProfile(let user, _, _), .deleteAccount(let user): placement.home(of: user)
        case .signInSubscriber(let session, _, _), .connectionLost(let session), .resume(let session, _, _): session.shard
        case .messageCommitted(let ticket, _), .messageFailed(let ticket): ticket.shard
        case .restoreShown, .fromShard: placement.index
        default: session?.shard ?? placement.index
        }
    }
}
