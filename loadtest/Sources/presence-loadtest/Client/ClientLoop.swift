import CPosix
import Glibc
import WebSocket

/// One epoll event loop that drives many client connections on one thread.
///
/// It owns everything it touches: the slots, the readers, one read buffer, one deflater
/// and one inflater (both sides negotiate no context takeover, so one zlib stream per
/// loop serves every connection). Steady-state echo traffic allocates nothing: payloads are
/// stamped into one scratch buffer and framed into each connection's kept outbound buffer.
final class ClientLoop {
    let plan: LoopPlan
    let control: RunControl
    let loopCount: Int
    let epfd: Int32
    let slots: UnsafeMutablePointer<ConnectionSlot>
    let readers: UnsafeMutablePointer<MessageReader>
    let readBuffer: UnsafeMutableRawBufferPointer
    let events: UnsafeMutablePointer<epoll_event>
    static let eventCapacity = 1024
    var dirty: [Int32] = []
    var result = LoopResult()
    var rng: SeededGenerator
    let echoPayload: EchoPayload
    /// The template, stamped in place for each message.
    let payloadScratch: UnsafeMutableRawBufferPointer
    /// The slow client's large message (binary, so the server skips UTF-8 work on it).
    var slowPayload: [UInt8] = []
    var compressed: [UInt8] = []
    let deflater: Deflater
    let inflater: Inflater
    var sources: SourceAddressPool
    var now: UInt64 = 0

    // Timeline, absolute monotonic ns; set when the run starts.
    var measureStart: UInt64 = .max
    var sendEnd: UInt64 = .max
    var drainEnd: UInt64 = .max
    var slowStarted: UInt64 = 0

    /// Connections in connect or handshake; bounded by `plan.connectConcurrency`.
    var connectingCount = 0
    /// The next local slot to start connecting.
    var nextToConnect = 0
    /// Echo messages awaiting an answer, across all connections.
    var outstanding = 0

    // Signed-in scenarios (role .user); empty otherwise. Connection i is load user
    // `userBase + i` (its `slots[i].globalIndex`); `users` is indexed by connection.
    let users: UnsafeMutablePointer<UserConnection>
    let userBase: Int
    var resumeTokens: [String?] = []
    /// Chat: per user a ring of `chatRing` sends: when each went out, and whether its reply
    /// (bit 0) and its delivery (bit 1) came back.
    static let chatRing = 64
    let chatSentAt: UnsafeMutablePointer<UInt64>
    let chatFlags: UnsafeMutablePointer<UInt8>
    /// Ops are written here, then framed; capacity is kept.
    var opScratch: [UInt8] = []
    /// Connections between handshake and snapshot (or resume reply).
    var signingInCount = 0
    /// Storm: connecting again after dropping every connection.
    var isReconnecting = false
    /// The window being measured, and its send schedule.
    var window = SessionWindow()
    var windowSendStart: UInt64 = .max
    /// Changes (presence) or messages (chat) per second of the window being sent.
    var windowRate = 0.0
    var scheduled = 0
    var cursor = 0
    /// Deliveries (presence) or replies plus deliveries (chat) still expected.
    var outstandingSession = 0
    /// Flippers by user index (presence, storm).
    var isFlipper: [Bool] = []

    init(plan: LoopPlan, control: RunControl, loopCount: Int) throws(LoadTestError) {
        self.plan = plan
        self.control = control
        self.loopCount = loopCount
        epfd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epfd >= 0 else { throw .syscallFailed("epoll_create1", errno: errno) }
        slots = .allocate(capacity: max(plan.count, 1))
        slots.initialize(repeating: ConnectionSlot(), count: max(plan.count, 1))
        let reader = MessageReader(role: .client, maxFrameSize: 64 << 20, maxMessageSize: 64 << 20)
        readers = .allocate(capacity: max(plan.count, 1))
        readers.initialize(repeating: reader, count: max(plan.count, 1))
        readBuffer = .allocate(byteCount: 256 * 1024, alignment: 16)
        events = .allocate(capacity: Self.eventCapacity)
        rng = SeededGenerator(seed: plan.seed &+ UInt64(plan.firstIndex))
        let payload = EchoPayload(size: plan.payloadSize, seed: plan.seed)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: plan.payloadSize, alignment: 8)
        payload.template.withUnsafeBytes { scratch.copyMemory(from: $0) }
        echoPayload = payload
        payloadScratch = scratch
        deflater = Deflater(windowBits: 15)
        inflater = Inflater()
        let userSlots = plan.session == nil ? 1 : max(plan.count, 1)
        users = .allocate(capacity: userSlots)
        users.initialize(repeating: UserConnection(), count: userSlots)
        userBase = plan.session?.firstUser ?? 0
        let ringSlots = plan.session?.workload == .chat ? max(plan.count, 1) * Self.chatRing : 1
        chatSentAt = .allocate(capacity: ringSlots)
        chatSentAt.initialize(repeating: 0, count: ringSlots)
        chatFlags = .allocate(capacity: ringSlots)
        chatFlags.initialize(repeating: 3, count: ringSlots)
        if plan.session != nil {
            resumeTokens = Array(repeating: nil, count: plan.count)
            isFlipper = Array(repeating: false, count: plan.count)
            for u in plan.session?.flippers ?? [] where Int(u) < plan.count { isFlipper[Int(u)] = true }
            opScratch.reserveCapacity(512 + (plan.session?.chatBody.count ?? 0))
        }
        sources = SourceAddressPool(perAddress: plan.connectionsPerSourceAddress)
        compressed.reserveCapacity(plan.payloadSize + 64)
        dirty.reserveCapacity(plan.count)
        for i in 0..<plan.count {
            let global = plan.firstIndex + i + userBase
            slots[i].globalIndex = global
            slots[i].role = global == plan.slowIndex ? .slow : plan.role
            if slots[i].role == .echo { slots[i].outbound.reserveCapacity(plan.inFlight * (plan.payloadSize + 16)) }
        }
        if plan.slowIndex.map({ (plan.firstIndex..<(plan.firstIndex + plan.count)).contains($0) }) == true {
            var g = SeededGenerator(seed: plan.seed ^ 0x51_0000)
            slowPayload = (0..<plan.slowMessageSize).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        }
    }

    deinit {
        for i in 0..<plan.count where slots[i].fd >= 0 { close(slots[i].fd) }
        close(epfd)
        slots.deinitialize(count: max(plan.count, 1)); slots.deallocate()
        readers.deinitialize(count: max(plan.count, 1)); readers.deallocate()
        readBuffer.deallocate()
        events.deallocate()
        payloadScratch.deallocate()
        users.deallocate()
        chatSentAt.deallocate()
        chatFlags.deallocate()
    }

    /// The whole run on the calling thread: connect, wait for the start, do the workload,
    /// drain, close. Every phase has a deadline.
    func run() -> LoopResult {
        now = MonotonicClock.nanoseconds()
        let connectDeadline = now + plan.connectTimeoutNanos
        result.connectStarted = now
        result.attempted = plan.count
        // Signed-in sessions heartbeat every 20 s while the others still sign in: a connect
        // phase longer than the server's silence timeout (two 25 s intervals) must not drop
        // the first ones (4006).
        while now < connectDeadline && (nextToConnect < plan.count || connectingCount > 0 || signingInCount > 0) {
            pump(until: min(connectDeadline, now + MonotonicClock.seconds(20))) { nextToConnect < plan.count || connectingCount > 0 || signingInCount > 0 }
            if plan.session != nil && now < connectDeadline { heartbeatAll() }
        }
        abandonUnfinishedConnects()
        if plan.session != nil { settleSignIns() }
        control.readyLoops.add(1, ordering: .releasing)

        // Wait for the main thread's start signal, answering pings meanwhile. A hold
        // (idle) gives it after its --settle, which may be long: it may wait up to its hold
        // limit more, and signed-in sessions heartbeat every 20 s meanwhile, as in the hold
        // itself, so a settle past the server's silence timeout does not drop them (4006).
        let holds = plan.role == .idle || plan.session?.workload == .hold
        let startDeadline = now + plan.connectTimeoutNanos + MonotonicClock.seconds(10) + (holds ? plan.holdLimitNanos : 0)
        while now < startDeadline && control.startNanos.load(ordering: .acquiring) == 0 {
            pump(until: min(startDeadline, now + MonotonicClock.seconds(20))) { control.startNanos.load(ordering: .acquiring) == 0 }
            if plan.session != nil && control.startNanos.load(ordering: .acquiring) == 0 { heartbeatAll() }
        }
        let start = control.startNanos.load(ordering: .acquiring)
        guard start != 0 else { result.note("the run never started (another loop hung while connecting)"); return finish() }

        measureStart = start + plan.warmupNanos
        sendEnd = measureStart + plan.durationNanos
        drainEnd = sendEnd + plan.drainNanos
        switch plan.role {
        case .idle:
            pump(until: now + plan.holdLimitNanos) { !control.isReleased.load(ordering: .acquiring) }
        case .user:
            runSessionWorkload(start: start)
        case .echo, .slow:
            // The slow client starts with the measured window (in feedSlowClient), so the
            // warm-up cannot hide the burst it causes.
            for i in 0..<plan.count where slots[i].phase == .open && slots[i].role == .echo { beginWorkload(Int32(i)) }
            pump(until: sendEnd) { true }
            if let slow = plan.slowIndex, slowStarted != 0 { resumeReading(Int32(slow - plan.firstIndex)) }
            pump(until: drainEnd) { outstanding > 0 || isSlowClientWaiting }
        }
        return finish()
    }

    /// Runs epoll until `deadline` or until `isBusy` turns false.
    func pump(until deadline: UInt64, while isBusy: () -> Bool) {
        var turns = 0
        while now < deadline && isBusy() && turns < 100_000_000 {
            turns += 1
            startConnects()
            // Awake by the next scheduled send: a window's sends follow their schedule
            // instead of the 10 ms poll. (With a 10 ms sleep, 500 changes/s went out as
            // bursts of five changes, 250 deliveries queued together, and the median
            // change -> contact latency measured that burst: 2.5-3 ms instead of ~0.5 ms.)
            let timeout = min(10_000_000, deadline - now, nanosecondsToNextSend)
            let n = cposix_epoll_wait_nanoseconds(epfd, events, Int32(Self.eventCapacity), Int64(timeout))
            now = MonotonicClock.nanoseconds()
            if n > 0 {
                for k in 0..<Int(n) {
                    let slot = Int32(truncatingIfNeeded: cposix_event_data(events + k))
                    handle(slot, mask: cposix_event_mask(events + k))
                }
            }
            feedSlowClient()
            if windowSendStart != .max { driveWindow() }
            flushDirty()
        }
    }

    func handle(_ i: Int32, mask: UInt32) {
        switch slots[Int(i)].phase {
        case .connecting: finishConnect(i)
        case .handshaking, .open:
            if mask & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0, !slots[Int(i)].isReadingPaused { readAvailable(i) }
            if mask & EPOLLOUT.rawValue != 0, slots[Int(i)].phase == .open { writeOutbound(i) }
            if mask & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0, slots[Int(i)].isReadingPaused { serverDropped(i, reason: "reset while not reading") }
        default: break  // a stale event for a slot closed earlier in this batch
        }
    }

    /// Closes every socket abortively (RST, no TIME_WAIT left to exhaust ports) and
    /// tallies what each connection got.
    func finish() -> LoopResult {
        for i in 0..<plan.count {
            let s = slots[i]
            if s.role == .echo {
                result.sent += UInt64(s.sent)
                result.answered += UInt64(s.answered)
            }
            if s.fd >= 0 { closeAbortively(Int32(i)) }
        }
        return result
    }

    func closeAbortively(_ i: Int32) {
        let fd = slots[Int(i)].fd
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(fd)
        slots[Int(i)].fd = -1
        slots[Int(i)].outbound = []
        slots[Int(i)].handshake = []
    }
}
