import CPosix
import Glibc
import Mailboxes
import Synchronization
import WebSocket

/// Writes the per-recipient start of a shared message (for example a JSON sequence
/// number) into the buffer it is given.
public typealias Prefixer = @Sendable (_ tag: UInt64, _ into: inout [UInt8]) -> Void

/// Work handed to a loop from another thread.
enum LoopTask: Sendable {
    /// Send one message, encoded on the loop (compressed where negotiated).
    case send(ConnectionID, Opcode, [UInt8])
    /// Send a text message made of a short per-recipient prefix and a shared body.
    case deliver(body: [UInt8], to: [(ConnectionID, UInt64)], prefix: Prefixer)
    /// Start the close handshake.
    case close(ConnectionID, CloseCode, String)
    /// Run a closure on the loop thread.
    case run(@Sendable (EventLoop) -> Void)
    /// Stop accepting, close every connection with 1001, and stop once they are gone.
    case shutdown
}

/// One epoll event loop on its own thread: it accepts, reads, writes and times out its own
/// connections, and nothing else touches them.
///
/// `@unchecked Sendable`: every stored property is confined to the loop's thread except
/// `inbox` (a `Mailbox`) and the immutable `index`, which is all other threads use
/// (through `execute`, `send`, `close`).
public final class EventLoop: @unchecked Sendable {
    public let index: Int
    let config: ServerConfiguration
    let epfd: Int32
    var listeners: [Listener] = []
    var connections: [Connection?] = []
    /// The TLS session of each TLS connection, by descriptor: kept here rather than in
    /// `Connection`, so a plain connection does not carry a word for it.
    var tlsSessions: [Int32: TLSSession] = [:]
    var nextGeneration: UInt32 = 1
    var handler: ConnectionHandler!
    var wheel: TimerWheel
    var dueTimers: [(token: UInt64, tick: Int64)] = []
    /// The loop clock (monotonic ms), read once per iteration.
    public private(set) var now: Int64
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Decrypted bytes of a TLS read.
    let plainBuffer: UnsafeMutableRawBufferPointer
    /// Unchecked for exclusivity: every access is a short call on the loop's thread (none
    /// reaches the queue again from inside), and the dynamic check cost each fan-out
    /// delivery a `swift_beginAccess`.
    @exclusivity(unchecked) var outbound = OutboundQueue()
    var dirty: [Int32] = []
    let iovecs: UnsafeMutablePointer<iovec>
    static let maxIovecs = 512
    /// Tasks from other threads. Unbounded (`postAdmitted`): what reaches a loop was
    /// admitted upstream (the presence mailbox's bound, a session's op limit), and each
    /// connection's queued bytes are bounded by `maxBufferedBytes` (close 1013).
    let inbox = Mailbox<LoopTask>(capacity: .max, consumerIsLoop: true)
    /// The loop's batch of tasks, reused.
    var taskBatch: [LoopTask] = []
    /// Shared compressors by window size (the server never takes over context).
    var deflaters: [Deflater?] = Array(repeating: nil, count: 16)
    /// Shared inflater for peers without context takeover.
    lazy var sharedInflater = Inflater()
    /// Scratch for compressing an outgoing message.
    var compressed: [UInt8] = []
    /// Scratch for a per-recipient prefix. Unchecked for exclusivity as `outbound` is: only
    /// `queueText` touches it, and the prefixer it calls cannot reach it.
    @exclusivity(unchecked) var prefixScratch: [UInt8] = []
    /// The context new TLS connections use; replaced on reload (connections keep theirs).
    let tls: TLSContextBox
    let limits: ConnectionCounter
    var isStopping = false
    var nextHandlerTick: Int64 = 0
    var stopDeadline: Int64 = 0
    var openCount = 0
    /// Sockets upgraded to WebSocket and not yet closed (part of `openCount`).
    var webSocketCount = 0
    /// Messages and bytes so far; read on this loop's thread (in `tick(on:)`).
    public internal(set) var traffic = LoopTraffic()
    /// Open sockets of this loop still speaking HTTP, and those upgraded to WebSocket
    /// (closing handshakes included). Read on this loop's thread.
    public var connectionCounts: (http: Int, webSocket: Int) { (openCount - webSocketCount, webSocketCount) }
    var events: UnsafeMutablePointer<epoll_event>
    var eventCapacity = 1024
    /// A descriptor held in reserve for running out of them: on EMFILE/ENFILE it is closed
    /// to accept one pending connection, which is refused (503) and closed, and then taken
    /// again. Without it a level-triggered listener with a full backlog would wake the loop
    /// at once, forever. -1 when it could not be taken back.
    var reserveFD: Int32 = -1
    /// When accepting was paused because no descriptor, not even the reserve, was free
    /// (listeners out of epoll until then), or 0.
    var acceptPausedUntil: Int64 = 0
    /// How long accepting pauses when the reserve is gone too.
    static let acceptPauseMilliseconds: Int64 = 100

    static let wakeToken = UInt64.max
    static let maxListeners = 64
    static func listenerToken(_ i: Int) -> UInt64 { UInt64.max - 1 - UInt64(i) }

    init(index: Int, config: ServerConfiguration, tls: TLSContextBox, limits: ConnectionCounter) throws {
        self.index = index
        self.config = config
        self.tls = tls
        self.limits = limits
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epfd >= 0 else { throw TransportError("epoll_create1", errno: cposix_errno()) }
        now = Syscall.monotonicMilliseconds()
        wheel = TimerWheel(now: now)
        readBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        plainBuffer = .allocate(byteCount: 64 * 1024, alignment: 16)
        iovecs = .allocate(capacity: Self.maxIovecs)
        events = .allocate(capacity: eventCapacity)
        _ = cposix_epoll_ctl(epfd, EPOLL_CTL_ADD, inbox.readinessDescriptor, EPOLLIN.rawValue, Self.wakeToken)
        for (k, endpoint) in config.endpoints.enumerated() where index == 0 || !endpoint.isSingleLoop {
            var l = try Listener.open(endpoint, backlog: config.listenBacklog)
            l.endpoint = k
            _ = cposix_epoll_ctl(epfd, EPOLL_CTL_ADD, l.fd, EPOLLIN.rawValue, Self.listenerToken(listeners.count))
            listeners.append(l)
        }
        reserveFD = Self.takeReserve()
    }

    static func takeReserve() -> Int32 { open("/dev/null", O_RDONLY | O_CLOEXEC) }

    deinit {
        if reserveFD >= 0 { Glibc.close(reserveFD) }
        Glibc.close(epfd)
        readBuffer.deallocate()
        plainBuffer.deallocate()
        iovecs.deallocate()
        events.deallocate()
    }

    /// The ports this loop listens on, in endpoint order (0 for a unix socket, and for an
    /// endpoint another loop serves).
    var boundPorts: [Int] {
        config.endpoints.indices.map { k in
            guard config.endpoints[k].unixPath == nil, let l = listeners.first(where: { $0.endpoint == k }) else { return 0 }
            return l.boundPort
        }
    }

    // MARK: - Other threads

    /// Queues a task and wakes the loop (one eventfd write per batch of tasks).
    func enqueue(_ task: LoopTask) { inbox.postAdmitted(task) }

    /// Runs `body` on the loop thread soon. Safe from any thread.
    public func execute(_ body: @escaping @Sendable (EventLoop) -> Void) { enqueue(.run(body)) }

    // MARK: - The loop

    /// Runs until shutdown has closed every connection (or its grace period ran out).
    func run() {
        while true {
            var timeout: Int32 = dirty.isEmpty ? wheel.timeout(now: Syscall.monotonicMilliseconds()) : 0
            // The handler's one-second tick.
            let untilTick = Int32(clamping: max(0, nextHandlerTick - Syscall.monotonicMilliseconds()))
            if timeout < 0 || untilTick < timeout { timeout = untilTick }
            if acceptPausedUntil > 0 {
                let untilResume = Int32(clamping: max(0, acceptPausedUntil - Syscall.monotonicMilliseconds()))
                if timeout < 0 || untilResume < timeout { timeout = untilResume }
            }
            let n = epoll_wait(epfd, events, Int32(eventCapacity), isStopping ? min(timeout < 0 ? 100 : timeout, 100) : timeout)
            now = Syscall.monotonicMilliseconds()
            if n < 0 {
                if cposix_errno() == EINTR { continue }
                preconditionFailure("epoll_wait: \(Syscall.describe(cposix_errno()))")
            }
            for i in 0..<Int(n) {
                let e = events.advanced(by: i)
                dispatch(token: cposix_event_data(e), mask: cposix_event_mask(e))
            }
            if Int(n) == eventCapacity {
                // A full batch: grow, as the load may well stay this high.
                events.deallocate()
                eventCapacity *= 2
                events = .allocate(capacity: eventCapacity)
            }
            wheel.advance(to: now, into: &dueTimers)
            for (token, tick) in dueTimers { fireTimer(token: token, tick: tick) }
            // A burst of timers (connections opened together fall due together) is not kept.
            dueTimers.removeAll(keepingCapacity: dueTimers.capacity <= 256)
            if acceptPausedUntil > 0, now >= acceptPausedUntil { resumeAccepting() }
            if now >= nextHandlerTick {
                nextHandlerTick = now + 1000
                handler.tick(on: self)
                outbound.trimAtRest()
            }
            flushDirty()
            if isStopping && (openCount == 0 || now >= stopDeadline) {
                for c in connections { if let c { closeSocket(c) } }
                flushDirty()
                return
            }
        }
    }

    func dispatch(token: UInt64, mask: UInt32) {
        if token == Self.wakeToken {
            drainInbox()
            return
        }
        if token >= Self.listenerToken(Self.maxListeners - 1) {
            // Listener tokens sit at the top of the range; connection generations stay below
            // 2^24, so connection tokens never reach it.
            let i = Int(Self.listenerToken(0) - token)
            if i < listeners.count { accept(listener: i) }
            return
        }
        guard let conn = connection(token: token) else { return }  // stale event of a closed fd
        if mask & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0 {
            onReadable(conn)
        }
        if mask & EPOLLOUT.rawValue != 0, conn.state != .closed {
            onWritable(conn)
        }
    }

    func connection(token: UInt64) -> Connection? {
        let fd = Int(UInt32(truncatingIfNeeded: token))
        guard fd < connections.count, let c = connections[fd], c.generation == UInt32(token >> 32) else { return nil }
        return c
    }

    /// The handler's word for a connection of this loop (0 if never set), or `nil` if the
    /// connection is gone. Call on this loop's thread; valid inside `closed` too.
    public func handlerWord(_ id: ConnectionID) -> UInt64? {
        connection(id)?.handlerWord
    }

    /// Sets the handler's word for a connection of this loop; ignored if it is gone.
    public func setHandlerWord(_ word: UInt64, for id: ConnectionID) {
        connection(id)?.handlerWord = word
    }

    /// The IDs and handler words of this loop's open connections whose word is not 0 (a
    /// handler's own connections: the cluster's re-placement closes every signed-in one).
    /// Call on this loop's thread.
    public func connectionsWithHandlerWords() -> [(ConnectionID, UInt64)] {
        connections.compactMap { c in
            guard let c, c.handlerWord != 0, c.state != .closed else { return nil }
            return (ConnectionID(loop: index, fd: c.fd, generation: c.generation), c.handlerWord)
        }
    }

    func connection(_ id: ConnectionID) -> Connection? {
        let fd = Int(id.fd)
        guard id.loop == index, fd >= 0, fd < connections.count, let c = connections[fd], c.generation == id.generation else { return nil }
        return c
    }

    func drainInbox() {
        var tasks = taskBatch
        taskBatch = []
        inbox.takeAll(into: &tasks)
        defer {
            // A storm's capacity is not kept.
            tasks.removeAll(keepingCapacity: tasks.capacity <= 1024)
            taskBatch = tasks
        }
        for task in tasks {
            switch task {
            case .send(let id, let opcode, let bytes):
                bytes.withUnsafeBytes { send(id, opcode: opcode, payload: $0) }
            case .deliver(let body, let recipients, let prefix):
                body.withUnsafeBytes { deliver(body: $0, to: recipients, prefix: prefix) }
            case .close(let id, let code, let reason):
                close(id, code: code, reason: reason)
            case .run(let body):
                body(self)
            case .shutdown:
                beginShutdown()
            }
        }
    }

    // MARK: - Accepting

    func accept(listener i: Int) {
        let listener = listeners[i]
        for _ in 0..<256 {
            var storage = sockaddr_storage()
            var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let fd = cposix_accept(listener.fd, &storage, &len)
            if fd < 0 {
                let e = cposix_errno()
                if e == EMFILE || e == ENFILE {
                    // Out of descriptors, with connections waiting: refuse them rather than
                    // leave them to wake this loop again at once.
                    switch refuseWithReserve(listener) {
                    case .refused: continue
                    case .noneWaiting: return
                    case .noReserve: pauseAccepting(); return
                    }
                }
                return  // EAGAIN: drained; EINTR, ECONNABORTED: the next event retries
            }
            let address = peerAddress(storage)
            // A trusted proxy carries many clients on its connections; they are counted per
            // client when a WebSocket upgrades (`upgrade(_:_:)`), not lumped here.
            let maxPerAddress = isTrustedProxy(address) ? Int.max : config.maxConnectionsPerAddress
            guard !isStopping, limits.admit(address, maxTotal: config.maxConnections, maxPerAddress: maxPerAddress) else {
                // A clear refusal before any upgrade (best effort on a fresh socket).
                let refusal = HTTPResponse.error(503, code: "server_busy", message: "server at capacity; retry later",
                                                 headers: [("Retry-After", "5")]).serialized(close: true)
                _ = refusal.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                Glibc.close(fd)
                continue
            }
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            var tls: TLSSession?
            if listener.isTLS {
                guard let ctx = self.tls.context, let session = TLSSession(context: ctx, isServer: true) else {
                    limits.release(address)
                    Glibc.close(fd)
                    continue
                }
                tls = session
            }
            let generation = nextGeneration
            // 24 bits, so a `ConnectionID` packs into one word (`ConnectionID.packed`).
            nextGeneration = nextGeneration >= ConnectionID.maxGeneration ? 1 : nextGeneration + 1
            let conn = Connection(fd: fd, generation: generation, remoteAddress: address, isTLS: tls != nil, now: now)
            if let tls { tlsSessions[fd] = tls }
            conn.endpoint = UInt8(truncatingIfNeeded: listener.endpoint)
            conn.phaseDeadline = now + config.requestTimeoutMilliseconds
            if Int(fd) >= connections.count {
                connections.append(contentsOf: repeatElement(nil, count: max(Int(fd) + 1 - connections.count, connections.count)))
            }
            connections[Int(fd)] = conn
            openCount += 1
            _ = cposix_epoll_ctl(epfd, EPOLL_CTL_ADD, fd, EPOLLIN.rawValue, conn.token)
            arm(conn)
        }
    }

    enum ReserveOutcome { case refused, noneWaiting, noReserve }

    /// Frees the reserve descriptor, accepts one waiting connection with it, answers it 503
    /// and closes it, then takes the reserve again.
    func refuseWithReserve(_ listener: Listener) -> ReserveOutcome {
        guard reserveFD >= 0 else { return .noReserve }
        Glibc.close(reserveFD)
        reserveFD = -1
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = cposix_accept(listener.fd, &storage, &len)
        let e = cposix_errno()
        if fd >= 0 {
            let refusal = HTTPResponse.error(503, code: "server_busy", message: "server out of file descriptors; retry later",
                                             headers: [("Retry-After", "5")]).serialized(close: true)
            if !listener.isTLS { _ = refusal.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) } }
            Glibc.close(fd)
        }
        reserveFD = Self.takeReserve()
        if fd < 0, e == EAGAIN { return .noneWaiting }
        return fd >= 0 && reserveFD >= 0 ? .refused : .noReserve
    }

    /// No descriptor at all: take the listeners out of epoll for a moment, so a waiting
    /// connection does not wake the loop on every iteration.
    func pauseAccepting() {
        guard acceptPausedUntil == 0 else { return }
        acceptPausedUntil = now + Self.acceptPauseMilliseconds
        for l in listeners { _ = cposix_epoll_ctl(epfd, EPOLL_CTL_DEL, l.fd, 0, 0) }
    }

    func resumeAccepting() {
        acceptPausedUntil = 0
        if reserveFD < 0 { reserveFD = Self.takeReserve() }
        for (i, l) in listeners.enumerated() {
            _ = cposix_epoll_ctl(epfd, EPOLL_CTL_ADD, l.fd, EPOLLIN.rawValue, Self.listenerToken(i))
        }
    }

    // MARK: - Timers

    func arm(_ conn: Connection) {
        let due = deadline(of: conn)
        // No deadline (a request whose answer is deferred, a closed socket): no timer. An
        // older entry may still fire; `fireTimer` finds nothing due and files nothing.
        guard due != .max else { return }
        let tick = TimerWheel.tick(of: due)
        if conn.filedTick < 0 || tick < conn.filedTick {
            conn.filedTick = wheel.file(conn.token, atTick: tick)
        }
    }

    func deadline(of conn: Connection) -> Int64 {
        switch conn.state {
        case .http, .closing: return conn.phaseDeadline
        case .open:
            return conn.isAwaitingPong
                ? conn.phaseDeadline  // the ping's timeout
                : conn.lastReceived + config.heartbeatIntervalMilliseconds
        case .closed: return .max
        }
    }

    func fireTimer(token: UInt64, tick: Int64) {
        guard let conn = connection(token: token), conn.filedTick == tick else { return }
        conn.filedTick = -1
        if deadline(of: conn) <= now {
            switch conn.state {
            case .http:
                if conn.isAwaitingResponse { return }
                if conn.lingers {
                    abort(conn)  // the rejected client never closed its side
                    return
                }
                if !conn.inbound.isEmpty {
                    queue(HTTPResponse.error(408, code: "request_timeout", message: "the request did not arrive in time").serialized(close: true), to: conn)
                }
                conn.closeAfterFlush = true
                markDirty(conn)
                return
            case .open:
                if conn.isAwaitingPong {
                    // No answer to our ping: the peer is gone.
                    abort(conn)
                    return
                }
                conn.isAwaitingPong = true
                conn.phaseDeadline = now + config.heartbeatTimeoutMilliseconds
                sendControl(conn, opcode: .ping, payload: UnsafeRawBufferPointer(start: nil, count: 0))
            case .closing:
                abort(conn)
                return
            case .closed:
                return
            }
        }
        arm(conn)
    }

    // MARK: - Shutdown

    func beginShutdown() {
        guard !isStopping else { return }
        isStopping = true
        stopDeadline = now + config.shutdownGraceMilliseconds
        for l in listeners { Glibc.close(l.fd) }
        listeners.removeAll()
        for case let conn? in connections {
            switch conn.state {
            case .open:
                // A jittered hint, so a restart is not met by every client at the same
                // instant: "reconnect in N ms", N uniform in 1,000...5,000.
                let delay = Int.random(in: 1_000...5_000)
                startClose(conn, code: .goingAway, reason: "server shutting down; reconnect in \(delay) ms")
            case .http: conn.closeAfterFlush = true; markDirty(conn)
            default: break
            }
        }
    }
}

/// Admission counts shared by every loop: connections in all and per source address.
final class ConnectionCounter: Sendable {
    let state = Mutex<(total: Int, byAddress: [String: Int])>((0, [:]))

    func admit(_ address: String, maxTotal: Int, maxPerAddress: Int) -> Bool {
        state.withLock { s in
            guard s.total < maxTotal, s.byAddress[address, default: 0] < maxPerAddress else { return false }
            s.total += 1
            s.byAddress[address, default: 0] += 1
            return true
        }
    }

    /// Moves one open connection's count from `old` to `new`, unless `new` already holds
    /// `maxPerAddress`; the total is unchanged.
    func transfer(from old: String, to new: String, maxPerAddress: Int) -> Bool {
        state.withLock { s in
            guard s.byAddress[new, default: 0] < maxPerAddress else { return false }
            s.byAddress[new, default: 0] += 1
            let n = s.byAddress[old, default: 1] - 1
            s.byAddress[old] = n == 0 ? nil : n
            return true
        }
    }

    func release(_ address: String) {
        state.withLock { s in
            s.total -= 1
            let n = s.byAddress[address, default: 1] - 1
            s.byAddress[address] = n == 0 ? nil : n
        }
    }

    var total: Int { state.withLock { $0.total } }
}
