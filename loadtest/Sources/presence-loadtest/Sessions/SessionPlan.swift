/// What the users of a signed-in scenario do once they are in (presence.v1 on `/ws`).
///
/// One client loop runs every user of a session scenario: each change is accounted against
/// all the contacts it must reach, and that bookkeeping stays on one thread without
/// sharing (`--threads` is 1 for these scenarios).
struct SessionPlan: Sendable {
    enum Workload: Sendable {
        /// Sign in, acknowledge the snapshot, and stay (idle --signed-in).
        case hold
        /// Flippers alternate online/busy at `changesPerSecond`; every arrival at a contact
        /// is timed (presence).
        case presence
        /// Users 2k and 2k+1 send each other chats at `messagesPerSecond` in all (chat).
        case chat
        /// Everyone drops at once and resumes; flippers change status as they come back
        /// (storm).
        case storm
    }

    var workload: Workload
    var users: LoadUsers
    /// Connection i signs in as user `firstUser + i` of the token file (presence and idle
    /// --first-user: client processes that share one seeded population). Everything else
    /// in a loop — `flippers`, the `users` array — is indexed by connection.
    var firstUser = 0
    /// Users that change status (presence, storm): a seeded choice among the visible.
    var flippers: [Int32] = []
    var changesPerSecond = 0.0
    var messagesPerSecond = 0.0
    /// The chat body: seeded filler of --body-size bytes (JSON-safe letters).
    var chatBody: [UInt8] = []
    /// Measured windows on one set of sessions (presence, chat): the scenario's repeats.
    var windows = 1
    /// Wait after everyone signed in, for the last sign-ins' presence to settle.
    var settleNanos: UInt64 = 0
    /// Unique per invocation; prefixes client message IDs (see `ClientOps.send`).
    var runNonce: UInt64 = 0
    /// The server, for CPU per window.
    var serverPID: Int32?
    /// A heartbeat acknowledges events once this many are unacknowledged (real clients
    /// acknowledge chats promptly; presence-only traffic could go 25 s).
    var acknowledgeEvery: UInt64 = 128
    /// Also check that every presence event comes from a contact (a binary search per event).
    var checksContacts = true
    /// presence --find-knee: step the change rate instead of running `windows` windows at
    /// `changesPerSecond`; steps stop once `kneeSeconds` of the loop's time are spent.
    var knee: KneeSearch?
    var kneeSeconds = 120.0
}
