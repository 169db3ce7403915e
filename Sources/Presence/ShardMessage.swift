// What one presence shard tells another. Users are placed on shards by `ShardPlacement`;
// each shard's core owns its users outright, and everything one shard needs from another
// travels as one of these, carried in order (FIFO per pair of shards) by the gateway's
// `ClusterBus`. Values name users by `UserID` and sessions by their global `SessionID`,
// never by a core's internal indices, so the same messages can cross processes.
//
// Who decides what:
// - A user's home decides everything about the user: status, sessions, reveals, and
//   publishing. Other shards keep a mirror of what the user's contacts there were told
//   (`published`), so snapshots, receipts and call decisions read it without asking.
// - A pair of users has one owner: the home of the smaller ID. Every relationship change
//   is decided there, in one order, and copied to the other home (`pairSet`); a request
//   made on the other home is checked there against its copy, then sent to the owner
//   (`pairRequest`), which checks it again against the truth.
// - A call is decided by the caller's home. The callee's home keeps a copy while the
//   callee's devices ring or talk, and the two exchange the call's steps.

/// One message between presence shards.
public enum ShardMessage: Equatable, Sendable {
    /// The subject's home published: what contacts and subscribers on the receiving shard
    /// are now shown (`view` for everyone, `reveals` for the contacts the subject revealed
    /// themselves to). The receiver tells whoever's view changed.
    case published(subject: UserID, view: PresenceView, reveals: [RevealedView])
    /// Deliver `event` to every session of `user` (sent to the user's home).
    case deliverToUser(Event, user: UserID)
    /// Deliver `event` to one session (sent to the shard that issued it).
    case deliverToSession(Event, session: SessionID)
    /// A committed chat for the recipient's home: delivered to their sessions, or, with
    /// none, counted toward the offline e-mail.
    case chat(ChatMessage)
    /// To the pair's owner: `actor` asks for `change` with `other`, as checked against the
    /// actor's home's copy, which was `seen` (from the actor's side). The owner checks again
    /// and applies it, or drops it. An owner with no state for the pair (neither user's list
    /// is loaded there) first adopts `seen`, which came from storage or from the owner.
    case pairRequest(PairChange, actor: UserID, other: UserID, seen: ContactState?)
    /// From the pair's owner to the other home: the pair's relationship is now `state`
    /// (from `a`'s side; `nil` for none).
    case pairSet(a: UserID, b: UserID, state: ContactState?)
    /// After a new acceptance: the subject's home tells the new contact's home how the
    /// subject looks to them, and that home sends `contactAdded`.
    case introduce(subject: UserID, observer: UserID, view: PresenceView)
    /// A subscriber on shard `shard` starts (or stops) watching `user`: the user's home
    /// then sends that shard every publish (and answers a start with the current view).
    case watch(user: UserID, shard: Int, isWatching: Bool)
    /// The account is gone (sent by its home to every shard): the receiving shard's users
    /// leave its contact and request lists, and subscriptions to it end.
    case accountDeleted(UserID)
    /// The caller's home rings the callee's home.
    case callInvite(CallID, caller: UserID, callerSession: SessionID, callee: UserID, payload: String)
    /// The callee is in another call and looks present to the caller.
    case callBusy(CallID)
    /// The callee's home took the call (it rings the callee's devices, or lets it ring out):
    /// the invite is an act toward the callee.
    case callOffered(CallID)
    /// The callee answered on `calleeSession`.
    case callAnswered(CallID, calleeSession: SessionID, payload: String)
    /// The callee, looking offline to the caller, silenced the call: no missed call.
    case callSilenced(CallID)
    /// The other side ended the call; `reason` is what this side's party is told
    /// (`nil`: nothing).
    case callFinished(CallID, reason: CallEndReason?)
}

/// A relationship change a user asks for (`Command.requestContact` and its siblings).
public enum PairChange: Hashable, Sendable {
    case request
    case accept
    case decline
    case remove
}

/// What one contact is shown of a subject who revealed themselves to them.
public struct RevealedView: Hashable, Sendable {
    /// The contact.
    public var observer: UserID
    /// What they are shown.
    public var view: PresenceView

    /// Creates an entry.
    public init(observer: UserID, view: PresenceView) {
        self.observer = observer
        self.view = view
    }
}
