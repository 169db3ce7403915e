import CHiredis
import Glibc

/// What a Redis link reports to its owner.
public enum RedisLinkState: Equatable, Sendable {
    /// Connected (again): re-assert whatever this node keeps in Redis.
    case connected
    /// Not connected: the connection was lost, or an attempt failed (refused, timed out).
    /// The next attempt follows in `retryInMilliseconds`; `failedAttempts` counts the
    /// failures since the last successful connection.
    case disconnected(reason: String, failedAttempts: Int, retryInMilliseconds: Int64)
}

/// One connection to Redis on a `ClusterLoop`: hiredis's async API attached to the loop
/// through its `ev` hooks (addRead, delRead, addWrite, delWrite, cleanup), commands with
/// completion callbacks, pub/sub, a connect timeout, and reconnection with backoff.
///
/// - Commands are pipelined: `send` queues the command in hiredis's output buffer and
///   returns; replies come back in order. A command sent while not connected fails at
///   once with `ClusterError.notConnected` (nothing is queued for later: after a
///   reconnect, owners re-assert current state instead of replaying stale commands).
/// - A connection that subscribes is a subscriber connection only (Redis allows nothing
///   but (un)subscribing in that mode): its subscriptions are renewed after every
///   reconnect, and ordinary commands on it fail with `ClusterError.rejected`.
/// - After the server goes away, or an attempt fails or times out, the next attempt
///   follows after a `ReconnectBackoff` delay; its observers (`observeState`) hear of each.
///
/// Confined to its loop: create it anywhere, then call everything on the loop thread
/// (preconditions check). While hiredis holds a context it keeps this object alive (a
/// retained pointer in `ev.data`, released by the cleanup hook), so a callback can never
/// reach a freed connection.
///
/// `@unchecked Sendable`: all state is touched only on `loop`'s thread (checked).
public final class RedisConnection: @unchecked Sendable {
    /// How to reach Redis and how to retry.
    public struct Configuration: Sendable {
        /// The server.
        public var endpoint: RedisEndpoint
        /// An attempt that has not connected after this long is abandoned and retried
        /// (hiredis 0.14's async API has no connect timeout of its own).
        public var connectTimeoutMilliseconds: Int64
        /// The delays between attempts.
        public var backoff: ReconnectBackoff

        public init(endpoint: RedisEndpoint, connectTimeoutMilliseconds: Int64 = 1_000, backoff: ReconnectBackoff = ReconnectBackoff()) {
            self.endpoint = endpoint
            self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
            self.backoff = backoff
        }
    }

    /// Receives a command's reply, or why there is none. Runs on the loop thread.
    public typealias Completion = (Result<RedisReply, ClusterError>) -> Void

    private enum Phase { case idle, connecting, connected, waitingToRetry, closed }

    private struct Subscription {
        var onSubscribed: (() -> Void)?
        var onMessage: ([UInt8]) -> Void
    }

    /// The loop this connection lives on.
    public let loop: ClusterLoop
    public let configuration: Configuration
    /// Told of every connection and every loss or failed attempt (not of `close()`).
    private var stateObservers: [(RedisLinkState) -> Void] = []
    /// Connection attempts made so far, successful or not.
    public private(set) var attempts = 0

    private var phase = Phase.idle
    private var backoff: ReconnectBackoff
    private var context: UnsafeMutablePointer<redisAsyncContext>?
    private var watchID: ClusterLoop.WatchID?
    private var connectTimer: ClusterLoop.TimerID?
    private var retryTimer: ClusterLoop.TimerID?
    /// Why we are freeing the context ourselves (timeout, close), for the owner's report.
    private var teardownReason: String?
    /// Completions of the commands in flight, in sending order (replies come in order).
    private var pending: [Completion?] = []
    private var pendingHead = 0
    private var subscriptions: [String: Subscription] = [:]

    public init(loop: ClusterLoop, configuration: Configuration) {
        self.loop = loop
        self.configuration = configuration
        self.backoff = configuration.backoff
    }

    /// Whether the connection is up.
    public var isConnected: Bool { phase == .connected }

    /// Commands sent whose replies have not arrived.
    public var commandsInFlight: Int { pending.count - pendingHead }

    /// Adds an observer of the link's state: told of every connection (the first and
    /// each reconnection) and every loss or failed attempt, not of `close()`. Owners of
    /// state in Redis (the lease, the membership view) re-assert it on `.connected`.
    public func observeState(_ observer: @escaping (RedisLinkState) -> Void) {
        precondition(loop.isOnLoopThread, "RedisConnection.observeState off its loop")
        stateObservers.append(observer)
    }

    // MARK: - Lifecycle

    /// Makes the first connection attempt (and keeps reconnecting until `close()`).
    public func start() {
        precondition(loop.isOnLoopThread, "RedisConnection.start off its loop")
        guard phase == .idle else { return }
        attempt()
    }

    /// Closes the connection for good: commands in flight fail with `connectionLost`, no
    /// retry follows and no state is reported.
    public func close() {
        precondition(loop.isOnLoopThread, "RedisConnection.close off its loop")
        guard phase != .closed else { return }
        phase = .closed
        if let t = retryTimer { loop.cancel(t) }
        if let t = connectTimer { loop.cancel(t) }
        retryTimer = nil
        connectTimer = nil
        subscriptions.removeAll()
        if let ac = context {
            teardownReason = "closed"
            redisAsyncFree(ac)
        }
    }

    private func attempt() {
        retryTimer = nil
        attempts += 1
        phase = .connecting
        let endpoint = configuration.endpoint
        guard let ac = redisAsyncConnect(endpoint.host, Int32(endpoint.port)) else {
            attemptFailed("out of memory")
            return
        }
        if ac.pointee.err != 0 {
            // Failed at once (refused on loopback, unknown host): no hooks attached yet.
            let reason = Self.errorText(ac)
            redisAsyncFree(ac)
            attemptFailed(reason)
            return
        }
        context = ac
        ac.pointee.ev.data = Unmanaged.passRetained(self).toOpaque()
        ac.pointee.ev.addRead = { RedisConnection.from($0).changeInterest(adding: .read) }
        ac.pointee.ev.delRead = { RedisConnection.from($0).changeInterest(removing: .read) }
        ac.pointee.ev.addWrite = { RedisConnection.from($0).changeInterest(adding: .write) }
        ac.pointee.ev.delWrite = { RedisConnection.from($0).changeInterest(removing: .write) }
        ac.pointee.ev.cleanup = { RedisConnection.from($0).contextCleanedUp() }
        watchID = loop.watch(
            ac.pointee.c.fd,
            onReadable: { [weak self] in if let ac = self?.context { redisAsyncHandleRead(ac) } },
            onWritable: { [weak self] in if let ac = self?.context { redisAsyncHandleWrite(ac) } })
        // hiredis learns of the connection on the first writable event; this adds write
        // interest, so the hooks must be in place first.
        _ = redisAsyncSetConnectCallback(ac) { ac, status in
            guard let ac, status == REDIS_OK, let data = ac.pointee.ev.data else { return }  // a failure ends in cleanup
            Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue().connected()
        }
        let timeout = configuration.connectTimeoutMilliseconds
        connectTimer = loop.schedule(afterMilliseconds: timeout) { [weak self] in
            guard let self, self.phase == .connecting, let ac = self.context else { return }
            self.connectTimer = nil
            self.teardownReason = "connect timed out after \(timeout) ms"
            redisAsyncFree(ac)
        }
    }

    private func connected() {
        phase = .connected
        backoff.reset()
        if let t = connectTimer { loop.cancel(t) }
        connectTimer = nil
        if !subscriptions.isEmpty { sendSubscribe(Array(subscriptions.keys)) }
        report(.connected)
    }

    private func attemptFailed(_ reason: String) {
        guard phase != .closed else { return }
        phase = .waitingToRetry
        let delay = backoff.nextDelay()
        retryTimer = loop.schedule(afterMilliseconds: delay) { [weak self] in
            guard let self, self.phase == .waitingToRetry else { return }
            self.attempt()
        }
        report(.disconnected(reason: reason, failedAttempts: backoff.failures, retryInMilliseconds: delay))
    }

    /// hiredis frees the context: after a lost connection, a failed connect, or our own
    /// `redisAsyncFree`. Replies still pending have already been failed by then.
    private func contextCleanedUp() {
        guard let ac = context else { return }
        let reason = teardownReason ?? (ac.pointee.err != 0 ? Self.errorText(ac) : "connection closed")
        teardownReason = nil
        // Later hook calls (none in 0.14, but cheap to rule out) must not reach us.
        ac.pointee.ev.addRead = nil
        ac.pointee.ev.delRead = nil
        ac.pointee.ev.addWrite = nil
        ac.pointee.ev.delWrite = nil
        ac.pointee.ev.cleanup = nil
        let retained = ac.pointee.ev.data
        ac.pointee.ev.data = nil
        if let w = watchID { loop.unwatch(w) }
        watchID = nil
        context = nil
        if let t = connectTimer { loop.cancel(t) }
        connectTimer = nil
        if phase != .closed { attemptFailed(reason) }
        // hiredis is still inside its free (callbacks may follow the cleanup in some
        // versions): let go of the context's reference only once it has returned.
        if let retained {
            loop.schedule(afterMilliseconds: 0) { Unmanaged<RedisConnection>.fromOpaque(retained).release() }
        }
    }

    private func changeInterest(adding: ClusterLoop.Interest = [], removing: ClusterLoop.Interest = []) {
        guard let w = watchID else { return }
        loop.setInterest(w, adding: adding, removing: removing)
    }

    /// Tells the owner after the current hiredis call has returned.
    private func report(_ state: RedisLinkState) {
        loop.schedule(afterMilliseconds: 0) { [weak self] in
            guard let self, self.phase != .closed else { return }
            for observer in self.stateObservers { observer(state) }
        }
    }

    // MARK: - Commands

    /// Sends a command, such as `["SET", key, value]`; `completion` gets its reply.
    public func send(_ arguments: [String], completion: @escaping Completion) {
        send(bytes: arguments.map { Array($0.utf8) }, completion: completion)
    }

    /// Sends a command with binary-safe arguments.
    public func send(bytes arguments: [[UInt8]], completion: @escaping Completion) {
        precondition(loop.isOnLoopThread, "RedisConnection.send off its loop")
        precondition(!arguments.isEmpty, "a Redis command needs a name")
        guard subscriptions.isEmpty else {
            completion(.failure(.rejected("ordinary command on a subscriber connection")))
            return
        }
        guard phase == .connected, let ac = context else {
            completion(.failure(.notConnected))
            return
        }
        let queued = Self.withArgv(arguments) { argc, argv, lengths in
            redisAsyncCommandArgv(ac, { ac, reply, privdata in
                guard let privdata else { return }
                Unmanaged<RedisConnection>.fromOpaque(privdata).takeUnretainedValue()
                    .replied(reply?.assumingMemoryBound(to: redisReply.self), context: ac)
            }, Unmanaged.passUnretained(self).toOpaque(), argc, argv, lengths)
        }
        guard queued == REDIS_OK else {
            completion(.failure(.rejected("hiredis refused the command (the connection is ending)")))
            return
        }
        pending.append(completion)
    }

    /// Sends `EVAL script numkeys keys... args...`.
    public func eval(_ script: String, keys: [String], arguments: [String], completion: @escaping Completion) {
        send(["EVAL", script, String(keys.count)] + keys + arguments, completion: completion)
    }

    private func replied(_ reply: UnsafeMutablePointer<redisReply>?, context ac: UnsafeMutablePointer<redisAsyncContext>?) {
        guard pendingHead < pending.count, let completion = pending[pendingHead] else { return }
        pending[pendingHead] = nil
        pendingHead += 1
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
        } else if pendingHead >= 1024, pendingHead * 2 >= pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
        if let reply {
            completion(.success(RedisReply(reply)))
        } else {
            // hiredis fails what is pending with a NULL reply when the context goes.
            let why = teardownReason ?? ac.flatMap { $0.pointee.err != 0 ? Self.errorText($0) : nil } ?? "connection closed"
            completion(.failure(.connectionLost(why)))
        }
    }

    // MARK: - Pub/sub

    /// Subscribes to `channel` (this connection becomes a subscriber connection). The
    /// subscription is renewed after every reconnect; `onSubscribed` runs each time Redis
    /// confirms it (messages published before that are not seen: an owner that must not
    /// miss a change re-reads the state there). `onMessage` gets each message's payload.
    public func subscribe(_ channel: String, onSubscribed: (() -> Void)? = nil, onMessage: @escaping ([UInt8]) -> Void) {
        precondition(loop.isOnLoopThread, "RedisConnection.subscribe off its loop")
        precondition(commandsInFlight == 0, "subscribe on a connection with commands in flight")
        subscriptions[channel] = Subscription(onSubscribed: onSubscribed, onMessage: onMessage)
        if phase == .connected { sendSubscribe([channel]) }
    }

    private func sendSubscribe(_ channels: [String]) {
        guard let ac = context else { return }
        _ = Self.withArgv([Array("SUBSCRIBE".utf8)] + channels.map { Array($0.utf8) }) { argc, argv, lengths in
            redisAsyncCommandArgv(ac, { _, reply, privdata in
                guard let privdata, let reply else { return }  // NULL: the context is going
                Unmanaged<RedisConnection>.fromOpaque(privdata).takeUnretainedValue()
                    .published(RedisReply(reply.assumingMemoryBound(to: redisReply.self)))
            }, Unmanaged.passUnretained(self).toOpaque(), argc, argv, lengths)
        }
    }

    private func published(_ reply: RedisReply) {
        guard let parts = reply.elements, parts.count >= 2, let kind = parts[0].string, let channel = parts[1].string,
            let subscription = subscriptions[channel]
        else { return }
        switch kind {
        case "message":
            if parts.count >= 3, case .bulk(let payload) = parts[2] { subscription.onMessage(payload) }
        case "subscribe":
            subscription.onSubscribed?()
        default:
            break
        }
    }

    // MARK: - C glue

    private static func from(_ data: UnsafeMutableRawPointer?) -> RedisConnection {
        Unmanaged<RedisConnection>.fromOpaque(data!).takeUnretainedValue()
    }

    private static func errorText(_ ac: UnsafeMutablePointer<redisAsyncContext>) -> String {
        guard let s = ac.pointee.errstr else { return "error \(ac.pointee.err)" }
        return String(cString: s)
    }

    /// Lays the arguments out in one buffer for hiredis (which copies them at once).
    private static func withArgv(
        _ arguments: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Int32
    ) -> Int32 {
        let total = arguments.reduce(0) { $0 + $1.count }
        let bytes = UnsafeMutablePointer<CChar>.allocate(capacity: max(1, total))
        let argv = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: arguments.count)
        let lengths = UnsafeMutablePointer<Int>.allocate(capacity: arguments.count)
        defer {
            bytes.deallocate()
            argv.deallocate()
            lengths.deallocate()
        }
        var offset = 0
        for (i, argument) in arguments.enumerated() {
            argument.withUnsafeBytes { raw in
                if raw.count > 0 { UnsafeMutableRawPointer(bytes + offset).copyMemory(from: raw.baseAddress!, byteCount: raw.count) }
            }
            argv[i] = UnsafePointer(bytes + offset)
            lengths[i] = argument.count
            offset += argument.count
        }
        return body(Int32(arguments.count), argv, lengths)
    }
}
