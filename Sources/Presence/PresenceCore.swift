/// The presence domain: sessions, contacts, statuses, chats, calls and subscribers.
///
/// Pure and deterministic. It never reads a clock, does I/O or takes a lock: the gateway
/// feeds it commands with the current time and carries out the effects it appends. One
/// thread owns it. Time only moves forward through `apply(_:at:into:)` and
/// `advance(to:into:)`, so tests drive hours of idle time in microseconds.
///
/// Arm a single timer for `nextDeadline` and call `advance(to:into:)` when it fires.
///
/// ```swift
/// var core = PresenceCore()
/// var effects: [Effect] = []
/// try core.apply(.signIn(signIn), at: now, into: &effects)
/// for effect in effects { gateway.perform(effect) }
/// effects.removeAll(keepingCapacity: true)
/// ```
public struct PresenceCore: Sendable {
    /// The tunables this core runs with.
    public let configuration: PresenceConfiguration
    /// Which shard this core is, and where every user lives.
    public let placement: ShardPlacement
    /// The latest time the core has been told.
    public private(set) var now: Instant

    // Configuration in the unit the deadline arithmetic uses.
    let idleAfterMilliseconds: Int64
    let graceMilliseconds: Int64
    let debounceMilliseconds: Int64
    let ringMilliseconds: Int64
    let revealMilliseconds: Int64
    let silenceMilliseconds: Int64
    /// Every session's replay ring holds this much (kept here once, not in each ring).
    let replayLimits: ReplayBuffer.Limits

    var users: [UserRecord] = []
    /// Each known user's ref by address (`UserIndex`); look up with `ref(of:)`.
    var userIndex = UserIndex()
    /// Indices of forgotten users, reused by the next `intern`.
    var freeUserRefs: [UserRef] = []
    var sessions: [SessionRecord?] = []
    /// Bumped when a slot is freed, so deadlines for its previous session go stale.
    var slotGenerations: [UInt32] = []
    var freeSlots: [Int] = []
    /// Sessions held (`sessions` minus its free slots).
    var liveSessionCount = 0
    /// The contact graph is the users' own lists: an accepted pair is each in the other's
    /// `contacts`, a pending one in both `requests`. Only what those lists cannot say is
    /// kept by pair (`pairKey`), and both maps stay small: who asked, for pending pairs;
    /// and pairs known to have *no* relationship (removed or declined since start-up), so
    /// a sign-in's older list from storage cannot resurrect them. No per-pair entry for
    /// accepted contacts, which are nearly all pairs.
    var requesters: [UInt64: UserRef] = [:]
    var knownUnrelated: Set<UInt64> = []
    var calls: [CallID: CallRecord] = [:]
    var pendingMessages: [MessageTicket: PendingMessage] = [:]
    var nextTicket: UInt64 = 1
    var deadlines = DeadlineQueue()
    /// Users restored by `Command.restoreShown`, by the instant their restore window ends.
    var restoredUntil: [Instant: [UserRef]] = [:]
    /// Mirrors whose home has not yet answered this shard's `watch` start, and the
    /// `subscribe` requests waiting for those answers, oldest first
    /// (`PresenceCore+Subscribers.swift`).
    var watchAnswersAwaited: Set<UserRef> = []
    var pendingSubscriptions: [PendingSubscription] = []

    /// Creates an empty core.
    /// - Parameters:
    ///   - configuration: The tunables; the defaults are the documented product values.
    ///   - now: The starting time.
    ///   - placement: The shard this core is; by default the only one.
    public init(configuration: PresenceConfiguration = PresenceConfiguration(), now: Instant = .zero,
                placement: ShardPlacement = .single) {
        self.configuration = configuration
        self.placement = placement
        self.now = now
        idleAfterMilliseconds = max(0, configuration.idleAfter.wholeMilliseconds)
        graceMilliseconds = max(0, configuration.disconnectGrace.wholeMilliseconds)
        debounceMilliseconds = max(0, configuration.debounce.wholeMilliseconds)
        ringMilliseconds = max(0, configuration.ringTimeout.wholeMilliseconds)
        revealMilliseconds = max(0, configuration.revealDuration.wholeMilliseconds)
        silenceMilliseconds = max(0, configuration.silenceTimeout.wholeMilliseconds)
        replayLimits = ReplayBuffer.Limits(capacity: configuration.replayCapacity,
                                           byteCapacity: configuration.replayByteCapacity)
    }

    /// When the core next needs `advance(to:into:)`, or `nil` if nothing is pending. Never
    /// later than the earliest real deadline; a wake-up that finds nothing to do is harmless.
    public var nextDeadline: Instant? { deadlines.first?.at }

    /// Sessions signed in, live or in their grace period, subscribers included.
    public var sessionCount: Int { liveSessionCount }

    /// The ID the next sign-in gets: the core issues session IDs (slot and generation).
    /// The gateway reads it just before applying `signIn` or `signInSubscriber` with it,
    /// on the thread that owns the core, so nothing comes between.
    public var nextSessionID: SessionID {
        let slot = freeSlots.last ?? sessions.count
        return SessionID(slot: slot, generation: slot < slotGenerations.count ? slotGenerations[slot] : 0,
                         shard: placement.index)
    }

    /// Applies one command at `time`.
    ///
    /// First runs every deadline due at or before `time` (as `advance(to:into:)` does), then
    /// the command. Effects are appended to `effects`, which the caller owns and may reuse.
    ///
    /// - Throws: `PresenceError` when the command is refused. The command then changed
    ///   nothing, but effects of deadlines that fell due are still in `effects` and must be
    ///   carried out.
    public mutating func apply(_ command: Command, at time: Instant, into effects: inout [Effect]) throws(PresenceError) {
        advance(to: time, into: &effects)
        if let session = command.session {
            noteHeard(session)
            if command.countsAgainstOpLimit { try spendOp(session) }
        }
        switch command {
        case .signIn(let request): try signIn(request, into: &effects)
        case .signInSubscriber(let session, let allowed, let attachment):
            try signInSubscriber(session, allowed: allowed, attachment: attachment, into: &effects)
        case .signOut(let session): try signOut(session, into: &effects)
        case .connectionLost(let session): try connectionLost(session, into: &effects)
        case .resume(let session, let sequence, let connection): try resume(session, after: sequence, connection: connection, into: &effects)
        case .heartbeat(let session, let sequence): try heartbeat(session, through: sequence, into: &effects)
        case .activity(let session): try activity(session, into: &effects)
        case .setStatus(let session, let status): try setStatus(session, status, into: &effects)
        case .requestContact(let session, let user): try requestContact(session, user, into: &effects)
        case .acceptContact(let session, let user): try acceptContact(session, user, into: &effects)
        case .declineContact(let session, let user): try declineContact(session, user, into: &effects)
        case .removeContact(let session, let user): try removeContact(session, user, into: &effects)
        case .send(let session, let recipient, let clientMessageID, let body):
            try send(session, to: recipient, clientMessageID: clientMessageID, body: body, into: &effects)
        case .messageCommitted(let ticket, let id): try messageCommitted(ticket, id, into: &effects)
        case .messageFailed(let ticket): try messageFailed(ticket, into: &effects)
        case .invite(let session, let callee, let call, let payload):
            try invite(session, callee: callee, call: call, payload: payload, into: &effects)
        case .ringing(let session, let call): try ringing(session, call, into: &effects)
        case .accept(let session, let call, let payload): try accept(session, call, payload: payload, into: &effects)
        case .decline(let session, let call): try decline(session, call, into: &effects)
        case .cancel(let session, let call): try cancel(session, call, into: &effects)
        case .hangUp(let session, let call): try hangUp(session, call, into: &effects)
        case .signal(let session, let call, let payload): try signal(session, call, payload: payload, into: &effects)
        case .subscribe(let session, let targets): try subscribe(session, targets, into: &effects)
        case .unsubscribe(let session, let targets): try unsubscribe(session, targets, into: &effects)
        case .changeProfile(let user, let isOfflineMailEnabled, let kept):
            changeProfile(user, isOfflineMailEnabled: isOfflineMailEnabled, except: kept, into: &effects)
        case .deleteAccount(let user): deleteAccount(user, into: &effects)
        case .restoreShown(let rows, let until): restoreShown(rows, until: until)
        case .fromShard(let message): receive(message, into: &effects)
        }
        pruneStaleDeadlines()
    }

    /// Moves time forward to `time`, running every deadline due by then in order: idle
    /// checks, grace expiries, debounced publishes, ring timeouts and reveal expiries. Each
    /// runs at its own instant, so a late tick produces the same effects as a punctual one.
    public mutating func advance(to time: Instant, into effects: inout [Effect]) {
        let target = max(time, now)
        while let next = deadlines.first, next.at <= target {
            deadlines.removeFirst()
            if next.at > now { now = next.at }
            fire(next.kind, at: next.at, into: &effects)
        }
        now = target
        pruneStaleDeadlines()
    }

    /// How `subject` looks to `observer` right now, before debouncing: the core's
    /// visibility function, exposed for the gateway's diagnostics and for tests. `nil` when
    /// `observer` may not see `subject` at all (not an accepted contact).
    public func view(of subject: UserID, for observer: UserID) -> PresenceView? {
        guard let s = ref(of: subject), let o = ref(of: observer) else { return nil }
        return view(of: s, for: .user(o))
    }
}

// MARK: - Identity and slots

extension PresenceCore {
    /// The ref of the user with this address, if the core knows them.
    func ref(of id: UserID) -> UserRef? { userIndex.ref(of: id, in: users) }

    mutating func intern(_ given: UserID) -> UserRef {
        if let ref = ref(of: given) { return ref }
        let id = given.ownCopy  // allocated here, among the core's other long-lived data
        let home = placement.home(of: id)
        if let reused = freeUserRefs.popLast() {
            var fresh = UserRecord(id: id, home: home, isLocal: home == placement.index)
            fresh.publishGeneration = users[reused.i].publishGeneration  // keeps old deadlines stale
            users[reused.i] = fresh
            userIndex.insert(reused, in: users)
            return reused
        }
        let ref = UserRef(index: UInt32(users.count))
        users.append(UserRecord(id: id, home: home, isLocal: home == placement.index))
        userIndex.insert(ref, in: users)
        return ref
    }

    func slot(of session: SessionID) throws(PresenceError) -> Int {
        guard let slot = existingSlot(of: session) else { throw .unknownSession }
        return slot
    }

    /// The slot of a live (or suspended) session, or `nil` if it ended or never was.
    func existingSlot(of session: SessionID) -> Int? {
        let slot = session.slot
        guard slot < sessions.count, let record = sessions[slot], record.id == session else { return nil }
        return slot
    }

    /// The slot and user of a user session; subscribers may not use user ops.
    func userSession(_ session: SessionID) throws(PresenceError) -> (slot: Int, user: UserRef) {
        let slot = try slot(of: session)
        guard let owner = sessions[slot]!.owner else { throw .wrongSessionKind }
        return (slot, owner)
    }

    /// Puts `record` in the slot its ID names; the ID must be `nextSessionID`.
    mutating func allocateSlot(for record: SessionRecord) -> Int {
        let slot = record.id.slot
        if slot == sessions.count {
            sessions.append(record)
            slotGenerations.append(0)
        } else {
            _ = freeSlots.popLast()
            sessions[slot] = record
        }
        liveSessionCount += 1
        return slot
    }

    mutating func freeSlot(_ slot: Int) {
        liveSessionCount -= 1
        sessions[slot] = nil
        slotGenerations[slot] &+= 1
        freeSlots.append(slot)
    }
}

// MARK: - Sending

extension PresenceCore {
    /// Sends `event` to one session.
    mutating func send(_ event: Event, toSlot slot: Int, into effects: inout [Effect]) {
        var deliveries: [Delivery] = []
        sessions[slot]!.record(event, within: replayLimits, into: &deliveries)
        if !deliveries.isEmpty { effects.append(.deliver(event, to: deliveries)) }
    }

    /// Sends `event` to every session of `user`, optionally but one; for a user homed on
    /// another shard, through that shard.
    mutating func send(_ event: Event, toSessionsOf user: UserRef, except excluded: Int? = nil,
                       into effects: inout [Effect]) {
        guard users[user.i].isLocal else {
            effects.append(.forward(.deliverToUser(event, user: users[user.i].id), toShard: Int(users[user.i].home)))
            return
        }
        let slots = users[user.i].sessions
        guard !slots.isEmpty else { return }
        var deliveries: [Delivery] = []
        deliveries.reserveCapacity(slots.count)
        for slot in slots where slot != excluded {
            sessions[slot]!.record(event, within: replayLimits, into: &deliveries)
        }
        if !deliveries.isEmpty { effects.append(.deliver(event, to: deliveries)) }
    }

    /// Sends `event` to the session with this ID, if it still exists; for a session of
    /// another shard, through that shard.
    mutating func send(_ event: Event, toSession session: SessionID, into effects: inout [Effect]) {
        guard session.shard == placement.index else {
            effects.append(.forward(.deliverToSession(event, session: session), toShard: session.shard))
            return
        }
        if let slot = existingSlot(of: session) { send(event, toSlot: slot, into: &effects) }
    }

    /// Whether `user` lives on this shard.
    func isLocal(_ user: UserRef) -> Bool { users[user.i].isLocal }

    /// Queues `message` for `user`'s home shard.
    func forward(_ message: ShardMessage, toHomeOf user: UserRef, into effects: inout [Effect]) {
        effects.append(.forward(message, toShard: Int(users[user.i].home)))
    }
}
