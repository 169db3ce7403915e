// The core's per-entity state. Flat and small on purpose: users and sessions live in
// dense arrays indexed by `UserRef` and slot number, and fan-out walks plain arrays.

/// What the core knows about a user's offline-e-mail flag.
enum OfflineMailPreference: Sendable {
    /// Not signed in since the gateway started: the mail worker checks storage.
    case unknown
    case enabled
    case disabled
}

/// A hidden user made visible to one contact by acting toward them.
struct Reveal: Sendable {
    var observer: UserRef
    /// The reveal holds until here, and for as long as an answered call between the two.
    var until: Instant
    /// What this observer has been told, the diff base for publishing.
    var published: PresenceView
}

struct UserRecord: Sendable {
    // One per user on each shard that knows them, so kept small: what a signed-in user at
    // rest does not use is in `extras` (192 bytes inline before it; `RecordLayoutTests`),
    // and the fields are declared in this order to pack: word-sized fields first, then
    // each 9-byte optional followed by the small fields that fill its padding.
    let id: UserID
    /// Slots of the user's sessions, live or in grace.
    var sessions = SlotList()
    /// Accepted contacts: the fan-out list.
    var contacts: [UserRef] = []
    /// What most users at rest do not have (`UserExtras`), boxed: nil for them.
    private var extras: UserExtras?
    /// What contacts without a reveal, and subscribers, have been told.
    var publishedPublic = PresenceView.offline
    /// The user's home shard (`ShardPlacement.home(of:)`).
    let home: UInt8
    /// Whether this core is the user's home. A record of a user homed elsewhere (a
    /// *mirror*) holds only what this shard's users need of them: the contact and request
    /// lists' entries for this shard's users, the subscribers here, a copy of a call with
    /// one of them, and what they were last shown (`publishedPublic`, `reveals`), as the
    /// home's `ShardMessage.published` said. It never has sessions and never publishes.
    let isLocal: Bool
    var chosen: ChosenStatus = .online
    /// Whether `chosen` was set in this process (loaded at a sign-in or chosen by the
    /// user); once it is, storage's copy is never newer.
    var isChosenKnown = false
    var offlineMail: OfflineMailPreference = .unknown
    /// The status contacts would see right now, before debouncing; tracks `offlineSince`.
    var publicStatus: PresenceStatus = .offline
    var isPublishScheduled = false
    /// Whether this offline period's notification e-mail went out.
    var isOfflineMailSent = false
    /// A placeholder for a forgotten user, its index free for reuse.
    var isForgotten = false
    /// The next publish goes to every shard, not only those of known contacts: after a
    /// restart the user's list was never loaded, yet contacts elsewhere were shown them.
    var broadcastsNextPublish = false
    var publishGeneration: UInt32 = 0
    /// On a mirror: how many subscriber sessions here may watch the user (the home sends
    /// this shard its publishes while there is one).
    var watchingSessions: UInt32 = 0
    /// When `publicStatus` last became offline: the public last-seen.
    var offlineSince: Instant?

    init(id: UserID, home: Int = 0, isLocal: Bool = true) {
        self.id = id
        self.home = UInt8(truncatingIfNeeded: home)
        self.isLocal = isLocal
    }

    // MARK: - The boxed fields

    /// Users with a pending request to or from this user.
    var requests: [UserRef] {
        get { extras?.requests ?? [] }
        _modify { let box = extrasForWriting(); yield &box.requests; releaseExtrasIfEmpty() }
    }
    /// Slots of subscriber sessions watching this user.
    var subscribers: [Int] {
        get { extras?.subscribers ?? [] }
        _modify { let box = extrasForWriting(); yield &box.subscribers; releaseExtrasIfEmpty() }
    }
    var reveals: [Reveal] {
        get { extras?.reveals ?? [] }
        _modify { let box = extrasForWriting(); yield &box.reveals; releaseExtrasIfEmpty() }
    }
    /// Other shards with subscribers watching this user (bit per shard): each publish goes
    /// there too.
    var watcherShards: UInt64 {
        get { extras?.watcherShards ?? 0 }
        _modify { let box = extrasForWriting(); yield &box.watcherShards; releaseExtrasIfEmpty() }
    }
    var sendWindow: SendWindow? {
        get { extras?.sendWindow }
        _modify { let box = extrasForWriting(); yield &box.sendWindow; releaseExtrasIfEmpty() }
    }
    /// The one call (ringing or answered) the user takes part in, if any.
    var call: CallID? {
        get { extras?.call }
        _modify { let box = extrasForWriting(); yield &box.call; releaseExtrasIfEmpty() }
    }
    var revealCheckAt: Instant? {
        get { extras?.revealCheckAt }
        _modify { let box = extrasForWriting(); yield &box.revealCheckAt; releaseExtrasIfEmpty() }
    }
    /// When the record is checked for forgetting, if it is queued to be.
    var forgetCheckAt: Instant? {
        get { extras?.forgetCheckAt }
        _modify { let box = extrasForWriting(); yield &box.forgetCheckAt; releaseExtrasIfEmpty() }
    }

    /// The box, made for this record alone (copied if another copy of the record shares it,
    /// so records keep value semantics).
    private mutating func extrasForWriting() -> UserExtras {
        if extras == nil {
            extras = UserExtras()
        } else if !isKnownUniquelyReferenced(&extras) {
            extras = extras!.copy()
        }
        return extras!
    }

    /// A box back to all defaults is dropped, so one request or call does not cost the
    /// user the box for good.
    private mutating func releaseExtrasIfEmpty() {
        if let box = extras, box.isEmpty { extras = nil }
    }
}

/// The fields of a `UserRecord` that a signed-in user at rest does not use: pending
/// requests, subscribers, reveals, watching shards, the chat send window, a call, and the
/// reveal and forget checks. Boxed, they cost 8 bytes in every record and a box only for
/// users that have one of them (~80 bytes saved on every record, and every shard keeps a
/// record of nearly every user: loadtest/README.md, "Presence shards").
///
/// `@unchecked Sendable` as a copy-on-write buffer is: it is written only through a record
/// that holds the one reference to it (`UserRecord.extrasForWriting`), like `Array`'s.
final class UserExtras: @unchecked Sendable {
    var requests: [UserRef] = []
    var subscribers: [Int] = []
    var reveals: [Reveal] = []
    var watcherShards: UInt64 = 0
    var sendWindow: SendWindow?
    var call: CallID?
    var revealCheckAt: Instant?
    var forgetCheckAt: Instant?

    var isEmpty: Bool {
        requests.isEmpty && subscribers.isEmpty && reveals.isEmpty && watcherShards == 0 && sendWindow == nil
            && call == nil && revealCheckAt == nil && forgetCheckAt == nil
    }

    func copy() -> UserExtras {
        let other = UserExtras()
        other.requests = requests
        other.subscribers = subscribers
        other.reveals = reveals
        other.watcherShards = watcherShards
        other.sendWindow = sendWindow
        other.call = call
        other.revealCheckAt = revealCheckAt
        other.forgetCheckAt = forgetCheckAt
        return other
    }
}

enum SessionConnection: Hashable, Sendable {
    case connected
    /// Connection lost; the session still counts until `until`.
    case suspended(until: Instant)
}

struct SessionRecord: Sendable {
    // One per session: 128 bytes (`RecordLayoutTests`). Word-sized fields first; the
    // ring's 28 bytes are followed by the 4-byte op credit that fills its tail, then the
    // small fields. Times that may be absent keep a sentinel instead of an optional's
    // padded 16 bytes, and what only subscribers use is boxed.
    let id: SessionID
    /// The gateway's connection, resume secret and token row: the core's session table
    /// is the only one.
    var attachment: SessionAttachment
    var lastActivity: Instant
    /// When anything (a heartbeat included) last arrived from this session.
    var lastHeard: Instant
    var opCreditAt: Instant = .zero
    /// `Int64.min` while connected, else the end of the grace period (`connection`).
    private var suspendedUntil = Int64.min
    /// `Int64.min` when no session check is queued, else when the queued one falls due
    /// (`checkAt`).
    private var checkAtMilliseconds = Int64.min
    var replay = ReplayBuffer()
    /// The op bucket (`PresenceConfiguration.opBurst`): thousandths of an op, as of
    /// `opCreditAt`. `Int32.max`: full, never spent (`PresenceCore.spendOp`).
    var opCredit = Int32.max
    /// Subscribers only (nil for a user's session): who it may watch, and who it watches.
    private var subscriber: SubscriberState?
    /// The signed-in user, or `nil` for a subscriber.
    let owner: UserRef?
    let device: DeviceKind
    var isIdle = false

    init(id: SessionID, owner: UserRef?, device: DeviceKind, attachment: SessionAttachment,
         lastActivity: Instant, lastHeard: Instant) {
        self.id = id
        self.owner = owner
        self.device = device
        self.attachment = attachment
        self.lastActivity = lastActivity
        self.lastHeard = lastHeard
    }

    var connection: SessionConnection {
        get { suspendedUntil == .min ? .connected : .suspended(until: Instant(milliseconds: suspendedUntil)) }
        set {
            switch newValue {
            case .connected: suspendedUntil = .min
            case .suspended(let until): suspendedUntil = until.milliseconds
            }
        }
    }

    var isConnected: Bool { suspendedUntil == .min }

    /// When the session's one queued check (`DeadlineKind.sessionCheck`) falls due, if one
    /// is queued.
    var checkAt: Instant? {
        get { checkAtMilliseconds == .min ? nil : Instant(milliseconds: checkAtMilliseconds) }
        set { checkAtMilliseconds = newValue?.milliseconds ?? .min }
    }

    /// The users a subscriber may watch (empty for a user's session).
    var allowed: Set<UserRef> {
        get { subscriber?.allowed ?? [] }
        _modify { let box = subscriberForWriting(); yield &box.allowed }
    }
    /// The users a subscriber watches (empty for a user's session).
    var watching: [UserRef] {
        get { subscriber?.watching ?? [] }
        _modify { let box = subscriberForWriting(); yield &box.watching }
    }

    /// The subscriber's box, made for this record alone (copied if another copy of the
    /// record shares it, so records keep value semantics). A user's session gets one
    /// only if written to as a subscriber, which the core never does.
    private mutating func subscriberForWriting() -> SubscriberState {
        if subscriber == nil {
            subscriber = SubscriberState()
        } else if !isKnownUniquelyReferenced(&subscriber) {
            subscriber = subscriber!.copy()
        }
        return subscriber!
    }

    /// Assigns the event its sequence on this session, keeps it for replay, and adds this
    /// session to `deliveries` if a connection is there to write to.
    @inline(__always)
    mutating func record(_ event: Event, within limits: ReplayBuffer.Limits, into deliveries: inout [Delivery]) {
        let sequence = replay.append(event, within: limits)
        if isConnected {
            deliveries.append(Delivery(session: id, sequence: sequence, connection: attachment.connection))
        }
    }
}

/// What a subscriber's session keeps besides a user session's fields, boxed so that a
/// user's session (nearly all of them) pays one word for it.
///
/// `@unchecked Sendable` as a copy-on-write buffer is: it is written only through a record
/// that holds the one reference to it (`SessionRecord.subscriberForWriting`).
final class SubscriberState: @unchecked Sendable {
    var allowed: Set<UserRef> = []
    var watching: [UserRef] = []

    func copy() -> SubscriberState {
        let other = SubscriberState()
        other.allowed = allowed
        other.watching = watching
        return other
    }
}

struct CallRecord: Sendable {
    enum Phase: Hashable, Sendable {
        case ringing(timeout: Instant)
        case answered(calleeSession: SessionID)
    }

    let id: CallID
    let caller: UserRef
    let callerSession: SessionID
    let callee: UserRef
    var phase: Phase
    /// Whether the callee's devices were rung (and are still ringing). False when the callee
    /// had no session, was in another call, or silenced the call while looking offline.
    var isRungOnCallee: Bool
    var isRingingForwarded = false
    var isDeclined = false

    var isAnswered: Bool {
        if case .answered = phase { return true }
        return false
    }
}

struct PendingMessage: Sendable {
    let sender: UserRef
    /// The session that sent it most recently (a retry moves the ack to the retrying one).
    var senderSession: SessionID
    let recipient: UserRef
    let clientMessageID: String
    let body: String
    let sentAt: Instant
}

/// A relationship between two users, as `PresenceCore.relation(_:_:)` derives it from
/// their contact and request lists (nothing is stored per accepted pair).
enum Relation: Hashable, Sendable {
    /// No relationship (`PresenceCore.knownUnrelated` remembers the pairs that had one).
    case none
    case pending(requester: UserRef)
    case accepted
}
