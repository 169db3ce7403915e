import Cluster
import Foundation
import Glibc
import Testing

@Suite("RedisConnection over a real redis-server",
       .enabled(if: RedisServer.shouldRun, "redis-server is not installed (apt-get install redis-server); PRESENCE_TEST_REQUIRE_REDIS=1 fails instead of skipping"))
struct RedisConnectionTests {
    @Test func repliesOfEveryKindArriveAsTheirCase() throws {
        let server = try RedisServer()
        let link = try LinkHarness()
        let redis = link.connect(server.endpoint)
        defer { link.shutdown([redis]) }
        #expect(waitUntil(timeout: 5) { link.sync { redis.isConnected } })

        #expect(link.command(redis, ["SET", "greeting", "hello"]) == .success(.status("OK")))
        #expect(link.command(redis, ["GET", "greeting"]) == .success(.bulk(Array("hello".utf8))))
        #expect(link.command(redis, ["GET", "no-such-key"]) == .success(.null))
        #expect(link.command(redis, ["INCRBY", "counter", "41"]) == .success(.integer(41)))
        #expect(link.command(redis, ["RPUSH", "list", "a", "", "c"]) == .success(.integer(3)))
        #expect(link.command(redis, ["LRANGE", "list", "0", "-1"]) == .success(.array([.bulk([97]), .bulk([]), .bulk([99])])))
        #expect(link.command(redis, ["EVAL", "return {1, {'x', false}, 'y'}", "0"])
                == .success(.array([.integer(1), .array([.bulk([120]), .null]), .bulk([121])])))
        guard case .success(.error(let message)) = link.command(redis, ["NOSUCHCOMMAND"]) else {
            Issue.record("an unknown command should be an error reply")
            return
        }
        #expect(message.hasPrefix("ERR"))
        guard case .success(.error(let wrongType)) = link.command(redis, ["INCR", "list"]) else {
            Issue.record("INCR of a list should be an error reply")
            return
        }
        #expect(wrongType.hasPrefix("WRONGTYPE"))
        // Binary-safe arguments and bulk replies: NUL, CR LF and bytes that are not UTF-8.
        let binary: [UInt8] = [0, 13, 10, 255, 0, 128]
        let stored = Locked<Result<RedisReply, ClusterError>?>(nil)
        link.loop.execute {
            redis.send(bytes: [Array("SET".utf8), Array("bin".utf8), binary]) { _ in
                redis.send(["GET", "bin"]) { r in stored.withLock { $0 = r } }
            }
        }
        #expect(waitUntil(timeout: 5) { stored.withLock { $0 != nil } })
        #expect(stored.withLock { $0 } == .success(.bulk(binary)))
        // The connection is still fine after all the error replies.
        #expect(link.command(redis, ["PING"]) == .success(.status("PONG")))
    }

    @Test func publishedMessagesReachTheSubscriberInOrder() throws {
        let server = try RedisServer()
        let link = try LinkHarness()
        let publisher = link.connect(server.endpoint)
        let subscriber = link.connect(server.endpoint)
        defer { link.shutdown([publisher, subscriber]) }
        let confirmed = Recorder<Int>()
        let messages = Recorder<[UInt8]>()
        link.sync {
            subscriber.subscribe("news", onSubscribed: { confirmed.append(1) }, onMessage: { messages.append($0) })
        }
        #expect(waitUntil(timeout: 5) { confirmed.count == 1 })
        for i in 0..<3 {
            // The reply counts the subscribers that got it: ours.
            #expect(link.command(publisher, ["PUBLISH", "news", "item \(i)"]) == .success(.integer(1)))
        }
        #expect(link.command(publisher, ["PUBLISH", "other-channel", "not for us"]) == .success(.integer(0)))
        #expect(waitUntil(timeout: 5) { messages.count == 3 })
        #expect(messages.all.map { String(decoding: $0, as: UTF8.self) } == ["item 0", "item 1", "item 2"])
        // Redis accepts nothing but (un)subscribing on a subscribed connection.
        guard case .failure(.rejected) = link.command(subscriber, ["GET", "x"]) else {
            Issue.record("an ordinary command on a subscriber connection should be rejected")
            return
        }
    }

    @Test func subscriptionsAreRenewedAfterRedisRestarts() throws {
        let server = try RedisServer()
        let link = try LinkHarness()
        let publisher = link.connect(server.endpoint)
        let subscriber = link.connect(server.endpoint, start: false)
        defer { link.shutdown([publisher, subscriber]) }
        let confirmed = Recorder<Int>()
        let messages = Recorder<String>()
        link.sync {
            subscriber.subscribe("news", onSubscribed: { confirmed.append(1) }, onMessage: { messages.append(String(decoding: $0, as: UTF8.self)) })
            subscriber.start()
        }
        #expect(waitUntil(timeout: 5) { confirmed.count == 1 })
        #expect(link.command(publisher, ["PUBLISH", "news", "before"]) == .success(.integer(1)))
        // Received before the kill: the publisher's reply can come back while the
        // subscriber's copy is still in Redis's output buffer, which a SIGKILL loses
        // (pub/sub delivers at most once).
        #expect(waitUntil(timeout: 10) { messages.all == ["before"] }, "\(messages.all)")
        server.kill()
        usleep(300_000)
        try server.start()
        // Resubscribed on the new server without the owner asking.
        #expect(waitUntil(timeout: 5) { confirmed.count == 2 })
        #expect(waitUntil(timeout: 5) { link.sync { publisher.isConnected } })
        #expect(link.command(publisher, ["PUBLISH", "news", "after"]) == .success(.integer(1)))
        #expect(waitUntil(timeout: 10) { messages.all == ["before", "after"] }, "\(messages.all)")
    }

    @Test func tenThousandPipelinedCommandsAllCompleteInOrder() throws {
        let server = try RedisServer()
        let link = try LinkHarness()
        let redis = link.connect(server.endpoint)
        defer { link.shutdown([redis]) }
        #expect(waitUntil(timeout: 5) { link.sync { redis.isConnected } })
        let count = 10_000
        let replies = Recorder<Int64>()
        let failures = Recorder<ClusterError>()
        // All sent in one turn of the loop, before any reply can be read: pipelined.
        let inFlight = link.sync { () -> Int in
            for _ in 0..<count {
                redis.send(["INCR", "total"]) { r in
                    switch r {
                    case .success(.integer(let n)): replies.append(n)
                    case .success(let other): failures.append(.unexpectedReply("\(other)"))
                    case .failure(let e): failures.append(e)
                    }
                }
            }
            return redis.commandsInFlight
        }
        #expect(inFlight == count)
        #expect(waitUntil(timeout: 30) { replies.count + failures.count == count })
        #expect(failures.all.isEmpty)
        #expect(replies.all == Array(1...Int64(count)))  // each its own reply, in order
        #expect(link.command(redis, ["GET", "total"]) == .success(.bulk(Array(String(count).utf8))))
        #expect(link.sync { redis.commandsInFlight } == 0)
    }

    @Test func closingFailsWhatIsInFlightAndNeverReconnects() throws {
        let server = try RedisServer()
        let link = try LinkHarness()
        let redis = link.connect(server.endpoint, start: false)
        defer { link.shutdown([redis]) }
        let states = link.startRecordingStates(redis)
        #expect(waitUntil(timeout: 5) { states.all == [.connected] })
        let outcomes = Recorder<Result<RedisReply, ClusterError>>()
        link.sync {
            for _ in 0..<100 { redis.send(["INCR", "n"]) { outcomes.append($0) } }
            redis.close()
            // After close, a command is refused at once.
            redis.send(["PING"]) { outcomes.append($0) }
        }
        #expect(waitUntil(timeout: 5) { outcomes.count == 101 })
        #expect(outcomes.all.prefix(100).allSatisfy { $0 == .failure(.connectionLost("closed")) })
        #expect(outcomes.all.last == .failure(.notConnected))
        usleep(300_000)
        #expect(states.all == [.connected])  // no report, no retry after close
        #expect(link.sync { redis.attempts } == 1)
    }

    @Test func reconnectsAfterRedisRestartsAndFailsWhatWasInFlight() throws {
        let server = try RedisServer()
        let link = try LinkHarness()
        let redis = link.connect(server.endpoint, start: false)
        defer { link.shutdown([redis]) }
        let states = link.startRecordingStates(redis)
        #expect(waitUntil(timeout: 5) { states.all.contains(.connected) })
        #expect(link.command(redis, ["SET", "k", "before"]) == .success(.status("OK")))

        // A command that would wait forever is in flight when the server dies.
        let blocked = Locked<Result<RedisReply, ClusterError>?>(nil)
        link.loop.execute { redis.send(["BLPOP", "never", "0"]) { r in blocked.withLock { $0 = r } } }
        #expect(waitUntil(timeout: 5) { link.sync { redis.commandsInFlight } == 1 })
        server.kill()
        #expect(waitUntil(timeout: 5) { blocked.withLock { $0 != nil } })
        guard case .failure(.connectionLost) = blocked.withLock({ $0 }) else {
            Issue.record("the command in flight should fail with connectionLost, got \(String(describing: blocked.withLock { $0 }))")
            return
        }
        #expect(waitUntil(timeout: 5) { states.all.contains { if case .disconnected = $0 { true } else { false } } })
        // While Redis is gone commands fail at once rather than queue.
        #expect(link.command(redis, ["PING"]) == .failure(.notConnected))
        usleep(700_000)
        let failedWhileDown = link.sync { redis.attempts }
        try server.start()
        let reconnectedAt = Date()
        #expect(waitUntil(timeout: 5) { states.all.filter { $0 == .connected }.count == 2 })
        // The retry step is capped at 300 ms here, so it is back within about that.
        #expect(Date().timeIntervalSince(reconnectedAt) < 1.5)
        // Backoff: a handful of attempts in 0.7 s, not a busy loop (20 ms doubling to 300 ms).
        #expect(failedWhileDown >= 3 && failedWhileDown <= 12, "attempts while down: \(failedWhileDown)")
        // A new, empty server (no persistence) that serves commands again.
        #expect(link.command(redis, ["GET", "k"]) == .success(.null))
        #expect(link.command(redis, ["INCR", "k2"]) == .success(.integer(1)))
    }

    @Test func refusedConnectionsAreRetriedWithBackoffNotABusyLoop() throws {
        // A port nothing listens on: a server that is not there.
        let server = try RedisServer()
        let port = server.port
        server.kill()
        let link = try LinkHarness()
        let cpuBefore = link.sync { threadCPUMilliseconds() }
        let redis = link.connect(RedisEndpoint(host: "127.0.0.1", port: port),
                                 backoff: ReconnectBackoff(initialMilliseconds: 50, maximumMilliseconds: 500), start: false)
        defer { link.shutdown([redis]) }
        let states = link.startRecordingStates(redis)
        usleep(2_000_000)
        // Read together on the loop, so no attempt falls between the two.
        let (attempts, reports, cpuAfter) = link.sync { (redis.attempts, states.all, threadCPUMilliseconds()) }
        let cpu = cpuAfter - cpuBefore
        // Every attempt was reported (the last report may still wait for its turn of the
        // loop), each as a refusal, with the growing delay.
        #expect(reports.count >= attempts - 1 && reports.count <= attempts)
        #expect(!reports.contains(.connected))
        for case .disconnected(let reason, _, let retry) in reports {
            #expect(reason.lowercased().contains("refused"), "reason: \(reason)")
            #expect(retry >= 25 && retry <= 500)
        }
        // 50 ms doubling to 500 ms, jittered into the upper half: 6 to 10 attempts in 2 s
        // (a busy loop would make thousands). At least 3 shows attempts are being made.
        #expect(attempts >= 3 && attempts <= 12, "attempts in 2 s: \(attempts)")
        // The loop thread slept in between.
        #expect(cpu < 200, "loop CPU in 2 s: \(cpu) ms")
        let delays = reports.compactMap { if case .disconnected(_, _, let d) = $0 { d } else { nil } }
        #expect(delays.count >= 3 && delays.last! > delays.first!)
    }

    @Test func anAttemptThatHangsTimesOutAndIsRetried() throws {
        // A listener whose accept queue is full: further SYNs are dropped, so a connect
        // neither succeeds nor fails until it times out.
        let listener = try FullListener()
        defer { listener.close() }
        let link = try LinkHarness()
        let redis = link.connect(RedisEndpoint(host: "127.0.0.1", port: listener.port),
                                 backoff: ReconnectBackoff(initialMilliseconds: 50, maximumMilliseconds: 50),
                                 connectTimeoutMilliseconds: 300, start: false)
        defer { link.shutdown([redis]) }
        let started = Date()
        let states = link.startRecordingStates(redis)
        #expect(waitUntil(timeout: 5) { states.count >= 2 })
        let elapsed = Date().timeIntervalSince(started)
        for case .disconnected(let reason, _, _) in states.all {
            #expect(reason == "connect timed out after 300 ms")
        }
        // Two timeouts of 300 ms with a 25-50 ms pause between them.
        #expect(elapsed >= 0.6 && elapsed < 2.0, "elapsed: \(elapsed)")
    }
}

/// CPU time of the calling thread, in milliseconds.
func threadCPUMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// A TCP listener on loopback that never accepts, with its accept queue filled, so a new
/// connection attempt hangs in SYN-SENT.
final class FullListener: @unchecked Sendable {
    let fd: Int32
    let port: Int
    private var fillers: [Int32] = []

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && listen(fd, 0) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else {
            Glibc.close(fd)
            throw RedisServer.Unavailable(description: "listener: errno \(errno)")
        }
        port = Int(UInt16(bigEndian: addr.sin_port))
        // A backlog of 0 admits one; fill it (non-blocking, so a dropped SYN does not hang us).
        for _ in 0..<3 {
            let c = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = connect(c, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            fillers.append(c)
        }
        usleep(100_000)
    }

    func close() {
        for c in fillers { Glibc.close(c) }
        Glibc.close(fd)
    }
}
