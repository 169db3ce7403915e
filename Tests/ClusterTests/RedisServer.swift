import Cluster
import Foundation
import Glibc

/// A private `redis-server` for one test: loopback only, no persistence, in a temporary
/// directory, on a free port chosen by binding 127.0.0.1:0 first (redis-server needs an
/// explicit port). It can be killed and started again on the same port.
///
/// When redis-server is not installed the Redis suites are skipped, unless
/// `PRESENCE_TEST_REQUIRE_REDIS=1` (scripts/test.sh sets it), when they fail instead.
final class RedisServer: @unchecked Sendable {
    /// `@unchecked Sendable`: `process` is only touched by the test that owns the server.
    let port: Int
    let directory: URL
    private var process: Process?

    static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") + ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
            let candidate = "\(dir)/redis-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static var isRequired: Bool { ProcessInfo.processInfo.environment["PRESENCE_TEST_REQUIRE_REDIS"] == "1" }

    /// Whether the Redis suites run: redis-server is installed, or it is required (and its
    /// absence then fails them).
    static var shouldRun: Bool { executable != nil || isRequired }

    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts a server on a fresh port.
    init() throws {
        guard Self.executable != nil else {
            throw Unavailable(description: "redis-server is not installed, and PRESENCE_TEST_REQUIRE_REDIS=1 (apt-get install redis-server)")
        }
        port = try Self.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit {
        kill()
        try? FileManager.default.removeItem(at: directory)
    }

    var endpoint: RedisEndpoint { RedisEndpoint(host: "127.0.0.1", port: port) }

    /// Starts redis-server (again) on `port` and waits until it answers.
    func start() throws {
        precondition(process == nil, "redis-server already running")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.executable!)
        p.arguments = [
            "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", directory.path, "--logfile", directory.appendingPathComponent("redis.log").path,
            "--daemonize", "no", "--protected-mode", "yes",
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if Self.answersPing(port: port) { return }
            if !p.isRunning { break }
            usleep(20_000)
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? ""
        kill()
        throw Unavailable(description: "redis-server did not come up on port \(port): \(log.suffix(500))")
    }

    /// SIGKILL: the server vanishes as a crashed Redis would (no goodbye to clients).
    func kill() {
        guard let p = process else { return }
        process = nil
        if p.isRunning {
            Glibc.kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Unavailable(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard bound else { throw Unavailable(description: "bind: errno \(errno)") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    /// A blocking PING over a plain socket: the server is up and serving.
    static func answersPing(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return false }
        let ping = Array("PING\r\n".utf8)
        guard write(fd, ping, ping.count) == ping.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, buffer.count)
        return n > 0 && String(decoding: buffer[0..<n], as: UTF8.self).hasPrefix("+PONG")
    }
}

/// A cluster loop for one test, with helpers to run code on it and wait for outcomes.
final class LinkHarness: Sendable {
    let loop: ClusterLoop

    init() throws {
        loop = try ClusterLoop(name: "cluster-test")
    }

    /// Runs `body` on the loop and returns its result.
    func sync<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let result = Locked<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            let value = body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }

    /// A started connection to `server`.
    func connect(_ endpoint: RedisEndpoint, backoff: ReconnectBackoff = ReconnectBackoff(initialMilliseconds: 20, maximumMilliseconds: 300),
                 connectTimeoutMilliseconds: Int64 = 1_000, start: Bool = true) -> RedisConnection {
        sync {
            let c = RedisConnection(loop: self.loop, configuration: .init(endpoint: endpoint, connectTimeoutMilliseconds: connectTimeoutMilliseconds, backoff: backoff))
            if start { c.start() }
            return c
        }
    }

    /// Starts a connection made with `start: false`, recording every state it reports from
    /// its first attempt on.
    func startRecordingStates(_ connection: RedisConnection) -> Recorder<RedisLinkState> {
        let states = Recorder<RedisLinkState>()
        sync {
            connection.observeState { states.append($0) }
            connection.start()
        }
        return states
    }

    /// Sends a command and waits for its outcome (at most `timeout` seconds).
    func command(_ connection: RedisConnection, _ arguments: [String], timeout: Double = 5) -> Result<RedisReply, ClusterError>? {
        let outcome = Locked<Result<RedisReply, ClusterError>?>(nil)
        loop.execute {
            connection.send(arguments) { r in outcome.withLock { $0 = r } }
        }
        _ = waitUntil(timeout: timeout) { outcome.withLock { $0 != nil } }
        return outcome.withLock { $0 }
    }

    /// Closes the given connections and stops the loop.
    func shutdown(_ connections: [RedisConnection]) {
        sync { for c in connections { c.close() } }
        loop.shutdown()
    }
}

/// Polls `condition` every 10 ms until it holds or `timeout` seconds pass.
/// - Returns: whether it held.
@discardableResult
func waitUntil(timeout: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// A value shared between a test's thread and a loop's. An `NSLock` (a pthread mutex)
/// rather than `Synchronization.Mutex`, whose futex ThreadSanitizer cannot see (the
/// precompiled library is not instrumented), so `--sanitize=thread` runs stay clean.
/// `@unchecked Sendable`: `value` is only touched under `lock`.
final class Locked<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func withLock<R>(_ body: (inout T) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

/// Things a callback saw, readable from the test's thread.
final class Recorder<T: Sendable>: Sendable {
    private let items = Locked<[T]>([])
    func append(_ item: T) { items.withLock { $0.append(item) } }
    var all: [T] { items.withLock { $0 } }
    var count: Int { items.withLock { $0.count } }
}
