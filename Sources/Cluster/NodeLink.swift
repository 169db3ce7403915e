import Synchronization

/// What a `NodeLink` tells its owner besides the frames themselves, on the loop thread.
public enum NodeLinkEvent: Equatable, Sendable {
    /// Our inbox is subscribed: frames published to us from now on arrive. Reported at the
    /// first subscription and again after every reconnect (after the gaps that reconnect
    /// causes).
    case inboxUp
    /// Our inbox connection is down: whatever is published to us meanwhile is lost. The
    /// gaps follow, one per known sender, when it is back.
    case inboxDown
    /// Frames from `from` may have been lost before the next frame delivered from it: a
    /// jump in its numbering, our inbox cut off (every sender we know of), or a batch from
    /// it we cannot read. Resynchronise what depends on that node's messages.
    case gap(from: NodeID)
    /// Frames we sent to `to` may not have arrived: its queue overflowed, a publish failed
    /// (Redis down or the connection lost), or nobody was subscribed to its inbox. Told
    /// once per episode: again only after a batch to it has reached a subscriber.
    case undelivered(to: NodeID)
}

/// The byte link between nodes: opaque frames to a node, through its inbox channel on
/// Redis pub/sub, numbered per (sender, receiver) so the receiver sees gaps
/// (Protocol/cluster.md, "Node-to-node link").
///
/// - `send(_:to:)` from any thread queues the frame for its node; the frames queued for
///   one node during one turn of the loop go out together: one `PUBLISH` (a `LinkBatch`)
///   per `maxBatchBytes` of them (64 KiB by default; measured in Protocol/cluster.md).
/// - Frames arrive at `onFrame` on the loop thread, in order per sender.
/// - Nothing is retried and nothing is durable. Loss is reported instead (`.gap` at the
///   receiver, `.undelivered` at the sender) and the layer above resynchronises: it
///   closes the sessions concerned, and their clients sign in again. Chats are committed
///   to storage before their ack, so none is lost with a frame.
/// - Memory is bounded: at most `maxQueuedBytesPerNode` / `maxQueuedFramesPerNode` wait
///   per destination, and at most `maxBytesInFlight` of published batches await Redis's
///   reply. Beyond that frames are dropped (`send` returns `false`), their numbers are
///   skipped so the receiver sees the gap, and `.undelivered(to:)` is reported here.
/// - Whether a node is a live member is the caller's business: the link sends where it
///   is told (a batch to a dead node reaches no subscriber and is reported undelivered).
///
/// Its own two Redis connections (a publisher, and the inbox subscriber), so bulk traffic
/// never delays the lease's renewals on the membership's connection.
///
/// `@unchecked Sendable`: `outbound` is the only state other threads touch, under its
/// `Mutex`; everything else is touched only on `loop`'s thread (checked by preconditions
/// in `start`/`close`, and reached otherwise only from the connections' callbacks and
/// `loop.execute` closures, which run there).
public final class NodeLink: @unchecked Sendable {
    /// Where Redis is and how much may wait.
    public struct Configuration: Sendable {
        /// The Redis server (both connections).
        public var redis: RedisConnection.Configuration
        /// The channel names.
        public var keys: ClusterKeys
        /// Bytes of frames that may wait for one destination between two flushes (and
        /// while the in-flight window is full); beyond it frames are dropped.
        public var maxQueuedBytesPerNode: Int
        /// Frames that may wait for one destination.
        public var maxQueuedFramesPerNode: Int
        /// Bytes of batches published whose reply has not come back; while it is full,
        /// frames wait in their queues (so a slow Redis fills the queues, not hiredis's
        /// output buffer).
        public var maxBytesInFlight: Int
        /// Frames queued for one node in one turn go out in batches of at most this many
        /// frame bytes (a larger frame goes alone): big enough that a batch's header and
        /// round trip are amortised, small enough that its buffers are reused instead of
        /// being mapped, faulted in and unmapped per batch (measured under glibc's malloc,
        /// before the gateway linked jemalloc; see Protocol/cluster.md).
        public var maxBatchBytes: Int
        /// How often a sync notice is sent again to a node that did not get our frames.
        public var syncNoticeIntervalMilliseconds: Int64
        /// How many notices before giving up (the node is likely gone; a live one hears of
        /// the gap from its own reconnect or from our next batch).
        public var syncNoticeAttempts: Int

        public init(redis: RedisConnection.Configuration, keys: ClusterKeys = ClusterKeys(),
                    maxQueuedBytesPerNode: Int = 8 << 20, maxQueuedFramesPerNode: Int = 65_536,
                    maxBytesInFlight: Int = 4 << 20, maxBatchBytes: Int = 64 << 10, syncNoticeIntervalMilliseconds: Int64 = 250, syncNoticeAttempts: Int = 40) {
            self.redis = redis
            self.keys = keys
            self.maxQueuedBytesPerNode = maxQueuedBytesPerNode
            self.maxQueuedFramesPerNode = maxQueuedFramesPerNode
            self.maxBytesInFlight = maxBytesInFlight
            self.maxBatchBytes = maxBatchBytes
            self.syncNoticeIntervalMilliseconds = syncNoticeIntervalMilliseconds
            self.syncNoticeAttempts = syncNoticeAttempts
        }
    }

    /// Counters, read on the loop thread.
    public struct Statistics: Equatable, Sendable {
        public var framesSent = 0
        public var batchesSent = 0
        /// Published bytes (batches, headers included).
        public var bytesSent = 0
        /// Frames dropped because their destination's queue was full.
        public var framesDropped = 0
        public var framesReceived = 0
        public var batchesReceived = 0
        public var duplicatesSkipped = 0
        public var malformedBatches = 0
        public var gapsReported = 0
    }

    /// Gets each frame and its sender, on the loop thread. The slice shares the batch's
    /// buffer: keeping it keeps the batch.
    public typealias FrameHandler = (_ from: NodeID, _ frame: ArraySlice<UInt8>) -> Void

    /// This node: the sender named in our batches, and whose inbox we read.
    public let node: NodeID
    public let loop: ClusterLoop
    public let configuration: Configuration
    private let publisher: RedisConnection
    private let inbox: RedisConnection
    private let onFrame: FrameHandler
    private let onEvent: (NodeLinkEvent) -> Void

    private struct PeerQueue {
        var frames: [[UInt8]] = []
        var bytes = 0
        var dropped = 0
    }

    private struct Outbound {
        var queues: [NodeID: PeerQueue] = [:]
        /// A flush is on its way to the loop (or waits for the window): no need to ask.
        var isFlushScheduled = false
        var isClosed = false
    }

    private let outbound = Mutex(Outbound())

    // Loop thread only.
    public private(set) var statistics = Statistics()
    private var nextSequence: [NodeID: UInt64] = [:]
    private var inboundSequences: [NodeID: InboundSequence] = [:]
    /// Nodes owed a sync notice, with the attempts left.
    private var owedNotices: [NodeID: Int] = [:]
    private var noticeTimer: ClusterLoop.TimerID?
    private var channels: [NodeID: [UInt8]] = [:]
    private var bytesInFlight = 0
    private var isWaitingForWindow = false
    private var hasListened = false
    /// Whether our inbox subscription is confirmed and its connection up.
    public private(set) var isListening = false
    private var isClosed = false
    private static let publishWord = Array("PUBLISH".utf8)

    /// - Parameters:
    ///   - node: this node's id.
    ///   - onFrame: each frame received, on the loop thread, in order per sender.
    ///   - onEvent: the link's events (`NodeLinkEvent`), on the loop thread.
    public init(node: NodeID, loop: ClusterLoop, configuration: Configuration,
                onFrame: @escaping FrameHandler, onEvent: @escaping (NodeLinkEvent) -> Void) {
        self.node = node
        self.loop = loop
        self.configuration = configuration
        self.onFrame = onFrame
        self.onEvent = onEvent
        publisher = RedisConnection(loop: loop, configuration: configuration.redis)
        inbox = RedisConnection(loop: loop, configuration: configuration.redis)
    }

    /// Whether frames can flow both ways now: the publisher connected and the inbox
    /// subscribed. Loop thread.
    public var isReady: Bool { publisher.isConnected && isListening }

    // MARK: - Lifecycle (loop thread)

    /// Connects both connections and subscribes to our inbox; they reconnect by
    /// themselves until `close()`.
    public func start() {
        precondition(loop.isOnLoopThread, "NodeLink.start off its loop")
        publisher.observeState { [weak self] state in
            guard let self, state == .connected else { return }
            self.sendOwedNotices()
        }
        inbox.observeState { [weak self] state in
            guard let self, case .disconnected = state, self.isListening else { return }
            self.isListening = false
            self.onEvent(.inboxDown)
        }
        inbox.subscribe(configuration.keys.inbox(node), onSubscribed: { [weak self] in self?.subscribed() },
                        onMessage: { [weak self] in self?.received($0) })
        publisher.start()
        inbox.start()
    }

    /// Closes both connections for good. Frames still queued are dropped silently, and
    /// later `send`s return `false`.
    public func close() {
        precondition(loop.isOnLoopThread, "NodeLink.close off its loop")
        guard !isClosed else { return }
        isClosed = true
        outbound.withLock {
            $0.isClosed = true
            $0.queues.removeAll()
        }
        if let t = noticeTimer { loop.cancel(t) }
        noticeTimer = nil
        publisher.close()
        inbox.close()
        isListening = false
    }

    /// Forgets what we know of `peer` as a sender (its numbering) and stops owing it
    /// notices: call when it has left the live set, so dead nodes do not pile up. Its
    /// outbound numbering is kept (a few bytes), so a node wrongly thought gone and still
    /// sent to never sees its numbers restart, which would read as duplicates; a frame
    /// from a forgotten node that is in fact alive reads as a gap, the safe side.
    public func forget(_ peer: NodeID) {
        precondition(loop.isOnLoopThread, "NodeLink.forget off its loop")
        inboundSequences[peer] = nil
        owedNotices[peer] = nil
    }

    // MARK: - Sending (any thread)

    /// Queues `frame` for `node`; it goes out with the others queued for that node in this
    /// turn of the loop. Safe from any thread.
    /// - Returns: `false` when the frame was dropped: the destination's queue is full (a
    ///   gap that the receiver will see, and `.undelivered(to:)` here), or the link is
    ///   closed.
    @discardableResult
    public func send(_ frame: [UInt8], to node: NodeID) -> Bool {
        let maxBytes = configuration.maxQueuedBytesPerNode
        let maxFrames = configuration.maxQueuedFramesPerNode
        let (isQueued, mustWake) = outbound.withLock { o -> (Bool, Bool) in
            guard !o.isClosed else { return (false, false) }
            let queuedFrames = o.queues[node]?.frames.count ?? 0
            let queuedBytes = o.queues[node]?.bytes ?? 0
            let fits = queuedFrames < maxFrames && frame.count <= maxBytes - queuedBytes
            if fits {
                o.queues[node, default: PeerQueue()].frames.append(frame)
                o.queues[node, default: PeerQueue()].bytes += frame.count
            } else {
                o.queues[node, default: PeerQueue()].dropped += 1
            }
            let mustWake = !o.isFlushScheduled
            o.isFlushScheduled = true
            return (fits, mustWake)
        }
        if mustWake { loop.execute { [weak self] in self?.flush() } }
        return isQueued
    }

    // MARK: - Publishing (loop thread)

    /// Publishes everything queued, per destination in batches of at most `maxBatchBytes`
    /// of frames, unless the in-flight window is full (then the replies that free it
    /// flush again).
    private func flush() {
        guard !isClosed else { return }
        guard bytesInFlight < configuration.maxBytesInFlight else {
            isWaitingForWindow = true
            return
        }
        let queues = outbound.withLock { o -> [NodeID: PeerQueue] in
            o.isFlushScheduled = false
            var taken: [NodeID: PeerQueue] = [:]
            swap(&taken, &o.queues)
            return taken
        }
        for (peer, queue) in queues {
            var next = nextSequence[peer, default: 1]
            if queue.bytes <= configuration.maxBatchBytes {
                if !queue.frames.isEmpty {
                    publish(to: peer, firstSequence: next, frames: queue.frames, frameBytes: queue.bytes)
                    next += UInt64(queue.frames.count)
                }
            } else {
                var start = 0
                while start < queue.frames.count {
                    var end = start
                    var bytes = 0
                    while end < queue.frames.count, end == start || bytes + queue.frames[end].count <= configuration.maxBatchBytes {
                        bytes += queue.frames[end].count
                        end += 1
                    }
                    publish(to: peer, firstSequence: next, frames: Array(queue.frames[start..<end]), frameBytes: bytes)
                    next += UInt64(end - start)
                    start = end
                }
            }
            statistics.framesSent += queue.frames.count
            if queue.dropped > 0 {
                // The dropped frames came after the queued ones: skip their numbers, and
                // say so at once with a notice, so the receiver sees the gap now rather
                // than with our next batch, whenever that is.
                next += UInt64(queue.dropped)
                statistics.framesDropped += queue.dropped
                markUndelivered(peer)
                publish(to: peer, firstSequence: next, frames: [], frameBytes: 0)
            }
            nextSequence[peer] = next
        }
    }

    private func publish(to peer: NodeID, firstSequence: UInt64, frames: [[UInt8]], frameBytes: Int) {
        let batch = LinkBatch.encode(sender: node, firstSequence: firstSequence, frames: frames, frameBytes: frameBytes)
        let size = batch.count
        bytesInFlight += size
        statistics.batchesSent += 1
        statistics.bytesSent += size
        publisher.send(bytes: [Self.publishWord, channel(peer), batch]) { [weak self] result in
            guard let self else { return }
            self.bytesInFlight -= size
            if case .success(.integer(let receivers)) = result, receivers > 0 {
                // A subscriber has our numbering up to here: any earlier loss shows to it
                // as a gap, so no notice is owed.
                self.owedNotices[peer] = nil
            } else {
                self.markUndelivered(peer)
            }
            if self.isWaitingForWindow, self.bytesInFlight < self.configuration.maxBytesInFlight {
                self.isWaitingForWindow = false
                self.flush()
            }
        }
    }

    private func channel(_ peer: NodeID) -> [UInt8] {
        if let c = channels[peer] { return c }
        let c = Array(configuration.keys.inbox(peer).utf8)
        channels[peer] = c
        return c
    }

    /// Frames to `peer` may be lost: tell the owner (once per episode) and owe `peer` a
    /// sync notice, an empty batch carrying our next number, until one reaches it.
    private func markUndelivered(_ peer: NodeID) {
        guard !isClosed else { return }
        if owedNotices[peer] == nil { onEvent(.undelivered(to: peer)) }
        owedNotices[peer] = configuration.syncNoticeAttempts
        scheduleNotices()
    }

    private func scheduleNotices() {
        guard noticeTimer == nil, !owedNotices.isEmpty, !isClosed else { return }
        noticeTimer = loop.schedule(afterMilliseconds: configuration.syncNoticeIntervalMilliseconds) { [weak self] in
            guard let self else { return }
            self.noticeTimer = nil
            self.sendOwedNotices()
            self.scheduleNotices()
        }
    }

    private func sendOwedNotices() {
        guard publisher.isConnected, !isClosed else { return }
        for (peer, attemptsLeft) in owedNotices.sorted(by: { $0.key < $1.key }) {
            if attemptsLeft <= 0 {
                owedNotices[peer] = nil
                continue
            }
            owedNotices[peer] = attemptsLeft - 1
            publish(to: peer, firstSequence: nextSequence[peer, default: 1], frames: [], frameBytes: 0)
        }
    }

    // MARK: - Receiving (loop thread)

    private func subscribed() {
        if hasListened {
            // We were cut off: whatever was published to us meanwhile is gone.
            for sender in inboundSequences.keys.sorted() {
                inboundSequences[sender]!.inboxWasCutOff()
                statistics.gapsReported += 1
                onEvent(.gap(from: sender))
            }
        }
        hasListened = true
        isListening = true
        onEvent(.inboxUp)
    }

    private func received(_ bytes: [UInt8]) {
        let batch: LinkBatch
        do {
            batch = try LinkBatch.decode(bytes)
        } catch {
            statistics.malformedBatches += 1
            if case .unknownVersion(_, let sender?) = error {
                inboundSequences[sender, default: InboundSequence()].inboxWasCutOff()
                statistics.gapsReported += 1
                onEvent(.gap(from: sender))
            }
            return
        }
        statistics.batchesReceived += 1
        let admission = inboundSequences[batch.sender, default: InboundSequence()]
            .admit(first: batch.firstSequence, count: batch.frames.count)
        if admission.isGap {
            statistics.gapsReported += 1
            onEvent(.gap(from: batch.sender))
        }
        statistics.duplicatesSkipped += admission.duplicates
        for frame in batch.frames.dropFirst(admission.duplicates) {
            guard !isClosed else { return }  // closed by the handler itself
            statistics.framesReceived += 1
            onFrame(batch.sender, frame)
        }
    }
}
