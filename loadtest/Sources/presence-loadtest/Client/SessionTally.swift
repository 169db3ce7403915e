import Histogram

/// What a signed-in scenario observed, beyond the WebSocket counts of `LoopResult`.
struct SessionTally {
    var signedIn = 0
    var signInRefused = 0
    /// Monotonic ns of the last completed sign-in (its snapshot).
    var signInFinished: UInt64 = 0
    /// Per user: signIn sent → snapshot received.
    var signInLatency = LatencySummary.makeHistogram()
    /// Events whose `seq` was not the previous one plus one: a lost (or repeated) event.
    var sequenceGaps = 0
    /// Presence events about a user who chose Hidden: hidden must look offline, and a
    /// hidden user who never changes must cause no presence event at all.
    var hiddenViolations = 0
    /// Presence events about someone who is not a contact of the receiver.
    var strangerEvents = 0
    /// Presence events that matched no change in flight (sign-in announcements, replays).
    var unmatchedPresence = 0
    /// Chats from an earlier run (the sign-in backlog of unacknowledged messages).
    var backlogChats = 0
    var errorReplies = 0
    var unrecognisedMessages = 0
    var windows: [SessionWindow] = []
    // storm
    var resumeStarted: UInt64 = 0
    var resumeFinished: UInt64 = 0
    var resumed = 0
    var resumeRefused = 0
    var resumeLatency = LatencySummary.makeHistogram()
}

/// One measured window of a presence or chat run.
struct SessionWindow {
    /// presence: change sent → arrival at a contact; chat: send → reply (after the commit).
    var latency = LatencySummary.makeHistogram()
    /// chat: send → the `chat` event at the recipient.
    var deliveryLatency = LatencySummary.makeHistogram()
    var seconds = 0.0
    /// The rate the window offered: changes/s (presence) or messages/s (chat).
    var offeredRate = 0.0
    /// presence --find-knee: whether this step passed (`KneeSearch.passes`).
    var kneePassed: Bool?
    /// presence --find-knee: 0 for a step's first window, 1... for its retries.
    var kneeAttempt = 0
    /// presence: status changes sent inside the window, deliveries they were due, and
    /// those that arrived (by the end of the drain).
    var changes = 0
    var expected = 0
    var delivered = 0
    /// Changes (or sends) due by the rate but skipped: that user's previous one was still
    /// in flight.
    var skipped = 0
    /// Deliveries, replies or chats still missing when the drain ended (warm-up included):
    /// lost.
    var abandoned = 0
    /// chat: sends inside the window, their replies and deliveries.
    var messages = 0
    var replies = 0
    var storedReceipts = 0
    var clientCPUSeconds = 0.0
    var serverCPUSeconds: Double?
}
