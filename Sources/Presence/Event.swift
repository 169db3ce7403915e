/// Something a client is told. The gateway encodes each event value once and writes the
/// same bytes to every recipient of `Effect.deliver`.
public enum Event: Equatable, Sendable {
    /// First event of every sign-in: the user's own status, contacts with their presence,
    /// and pending requests.
    indirect case snapshot(Snapshot)
    /// The user's chosen status changed (on this device or another).
    case ownStatus(ChosenStatus)
    /// A contact's, or a watched user's, presence changed.
    case presence(UserID, PresenceView)
    /// Someone asked to become this user's contact.
    case contactRequestReceived(from: UserID)
    /// This user (on some device) asked someone to become a contact.
    case contactRequestSent(to: UserID)
    /// A relationship became accepted; presence flows from now on.
    case contactAdded(UserID, PresenceView)
    /// A contact or a pending request with this user is gone.
    case contactRemoved(UserID)
    /// A chat message: to the recipient's sessions, and to the sender's other sessions so
    /// every device shows the conversation.
    indirect case chat(ChatMessage)
    /// To the sending session: the message is committed.
    indirect case chatAccepted(ChatAck)
    /// To the sending session: storage refused the message; it may be sent again.
    case chatFailed(clientMessageID: String)
    /// A call is ringing on this device.
    indirect case callIncoming(CallID, from: UserID, payload: String)
    /// To the caller: a callee device is ringing. Never sent while the callee looks offline
    /// to the caller, so a hidden callee's ringing stays secret.
    case callRinging(CallID)
    /// To the caller: the callee answered. The payload passes through untouched.
    indirect case callAccepted(CallID, payload: String)
    /// To the callee's other devices: answered on another device; stop ringing.
    case callAnsweredElsewhere(CallID)
    /// Opaque signalling from the other party of an answered call.
    indirect case callSignal(CallID, payload: String)
    /// The call is over, and why.
    case callEnded(CallID, CallEndReason)
    /// To a subscriber: the current presence of the users it just subscribed to.
    indirect case subscriptionSnapshot([ContactPresence])
    /// To a subscriber: a watched user's account is gone; no more deltas for them.
    case subscriptionEnded(UserID)
}

/// The state a session starts from.
public struct Snapshot: Equatable, Sendable {
    /// The user's chosen status.
    public var chosenStatus: ChosenStatus
    /// Accepted contacts, each with the presence view this user is entitled to.
    public var contacts: [ContactPresence]
    /// Users who asked this user and wait for an answer.
    public var incomingRequests: [UserID]
    /// Users this user asked, still unanswered.
    public var outgoingRequests: [UserID]

    /// Creates a snapshot.
    public init(chosenStatus: ChosenStatus, contacts: [ContactPresence],
                incomingRequests: [UserID], outgoingRequests: [UserID]) {
        self.chosenStatus = chosenStatus
        self.contacts = contacts
        self.incomingRequests = incomingRequests
        self.outgoingRequests = outgoingRequests
    }
}

/// One user and how they look to the observer.
public struct ContactPresence: Hashable, Sendable {
    /// The observed user.
    public var user: UserID
    /// What the observer sees.
    public var view: PresenceView

    /// Creates an entry.
    public init(user: UserID, view: PresenceView) {
        self.user = user
        self.view = view
    }
}

/// A committed chat message.
public struct ChatMessage: Hashable, Sendable {
    /// Storage's ID; increasing, unique.
    public var id: MessageID
    /// Who wrote it.
    public var sender: UserID
    /// Who it is for.
    public var recipient: UserID
    /// The sender's retry key.
    public var clientMessageID: String
    /// The text.
    public var body: String
    /// When the core accepted the send.
    public var sentAt: Instant

    /// Creates a message.
    public init(id: MessageID, sender: UserID, recipient: UserID,
                clientMessageID: String, body: String, sentAt: Instant) {
        self.id = id
        self.sender = sender
        self.recipient = recipient
        self.clientMessageID = clientMessageID
        self.body = body
        self.sentAt = sentAt
    }
}

/// The sender's acknowledgement of a committed message.
public struct ChatAck: Hashable, Sendable {
    /// The key the sender chose.
    public var clientMessageID: String
    /// Storage's ID for the message.
    public var messageID: MessageID
    /// What the sender may know about delivery.
    public var receipt: DeliveryReceipt

    /// Creates an acknowledgement.
    public init(clientMessageID: String, messageID: MessageID, receipt: DeliveryReceipt) {
        self.clientMessageID = clientMessageID
        self.messageID = messageID
        self.receipt = receipt
    }
}

/// What a sender is told about delivery, computed from the recipient's presence *as the
/// sender sees it*. A hidden recipient gets the message live, but the sender reads
/// `stored`, exactly as for a logged-out recipient.
public enum DeliveryReceipt: Hashable, Sendable {
    /// The recipient visibly has a connected session, and the message went to it.
    case delivered
    /// Committed; the recipient gets it when they are (visibly) online.
    case stored
}

/// Why a call ended. Both parties get the same reason, except that the caller of a callee
/// who looks offline only ever sees `noAnswer`, `cancelled` or `connectionLost`.
public enum CallEndReason: Hashable, Sendable {
    /// The callee, visible to the caller, declined.
    case declined
    /// The caller gave up before an answer (or its session went away while ringing).
    case cancelled
    /// Nobody answered within the ring timeout.
    case noAnswer
    /// The callee, visible to the caller, is already in a call.
    case busy
    /// The other party ended the answered call.
    case hungUp
    /// The other party's session ended (grace expired, signed out, closed).
    case connectionLost
    /// One party removed the other as a contact while the call rang or ran: calls, like
    /// presence and chats, happen only between current contacts.
    case contactRemoved
}

extension Event {
    /// Roughly the bytes this event pins while a session's replay ring holds it: its
    /// variable parts (bodies, payloads, lists) plus a fixed 64 for the rest. What the
    /// ring's byte bound (`PresenceConfiguration.replayByteCapacity`) counts.
    var replayCost: Int {
        switch self {
        case .chat(let m):
            64 + m.body.utf8.count + m.clientMessageID.utf8.count + m.sender.email.utf8.count + m.recipient.email.utf8.count
        case .snapshot(let s):
            64 + 48 * s.contacts.count + 32 * (s.incomingRequests.count + s.outgoingRequests.count)
        case .subscriptionSnapshot(let list):
            64 + 48 * list.count
        case .callIncoming(_, _, let payload), .callAccepted(_, let payload), .callSignal(_, let payload):
            64 + payload.utf8.count
        case .chatAccepted(let ack):
            64 + ack.clientMessageID.utf8.count
        default:
            64
        }
    }
}
