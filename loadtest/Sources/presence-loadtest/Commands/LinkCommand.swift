import ArgumentParser
import Cluster
import Foundation
import Glibc
import Synchronization

/// `presence-loadtest link`: two `NodeLink`s in this process, each on a `ClusterLoop` of
/// its own as two nodes would be, and one or more threads streaming frames from node 1
/// to node 2 through a Redis server. Reports frames/s and MB/s received, how many
/// frames each PUBLISH carried, and this process's CPU per frame (the Redis server's is
/// for the caller to read; loadtest/link-bench.sh does).
struct LinkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "Node-to-node link throughput: frames from one NodeLink to another through Redis pub/sub.",
        discussion: """
            The senders keep at most --window-frames frames (and --window-bytes bytes) sent but \
            not yet received, so the link's bounded queues never overflow: a run that drops or \
            sees a gap is reported as lost and exits 2. Use a Redis server of its own \
            (loadtest/link-bench.sh starts one).
            """)

    @Option(help: "The Redis server: redis://HOST:PORT.")
    var redisUrl: String

    @Option(help: "Frame sizes to run, comma-separated bytes (one run each).")
    var frameSizes = "100,2048"

    @Option(help: "Measured seconds per run.")
    var seconds = 3.0

    @Option(help: "Seconds of traffic before measuring.")
    var warmup = 0.5

    @Option(help: "Threads sending from node 1.")
    var senders = 1

    @Option(help: "Most frames sent and not yet received.")
    var windowFrames = 16_384

    @Option(help: "Most bytes sent and not yet received.")
    var windowBytes = 4 << 20

    @Option(help: "Round trips of one 100 B frame (node 1 → node 2 → node 1), one at a time, after the throughput runs; 0 skips them.")
    var pings = 2_000

    @Option(help: "NodeLink's maxBatchBytes: frame bytes per PUBLISH at most (default: the link's own).")
    var maxBatchBytes: Int?

    func validate() throws {
        guard RedisEndpoint(url: redisUrl) != nil else { throw ValidationError("--redis-url must be redis://HOST:PORT") }
        guard sizes.count > 0, sizes.allSatisfy({ (0...(1 << 20)).contains($0) }) else {
            throw ValidationError("--frame-sizes: comma-separated sizes of 0...1048576 bytes")
        }
        guard seconds > 0 && seconds <= 600 else { throw ValidationError("--seconds must be in (0, 600]") }
        guard warmup >= 0 && warmup <= 60 else { throw ValidationError("--warmup must be 0...60") }
        guard (0...100_000).contains(pings) else { throw ValidationError("--pings must be 0...100000") }
        guard (1...16).contains(senders) else { throw ValidationError("--senders must be 1...16") }
        guard (1...60_000).contains(windowFrames) else { throw ValidationError("--window-frames must be 1...60000") }
        guard (1...(7 << 20)).contains(windowBytes) else { throw ValidationError("--window-bytes must be 1...7340032") }
        if let m = maxBatchBytes, !(1...(64 << 20)).contains(m) { throw ValidationError("--max-batch-bytes must be 1...67108864") }
    }

    private var sizes: [Int] { frameSizes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func run() throws {
        let endpoint = RedisEndpoint(url: redisUrl)!
        print("link: node 1 → node 2 through \(endpoint), \(senders) sending thread(s), window \(windowFrames) frames / \(windowBytes >> 10) KiB, "
              + "batches of at most \(maxBatchBytes.map { "\($0 >> 10) KiB" } ?? "the default"), "
              + "\(String(format: "%.1f", seconds)) s measured per size")
        print("frame_B     frames/s      MB/s  frames/PUBLISH  cpu_us/frame  dropped  gaps")
        var lost = false
        for size in sizes {
            let r = try LinkRun(endpoint: endpoint, frameSize: size, senders: senders, windowFrames: windowFrames,
                                windowBytes: windowBytes, maxBatchBytes: maxBatchBytes, warmup: warmup, seconds: seconds).measure()
            print(String(format: "%7d  %11.0f  %8.1f  %14.1f  %12.2f  %7d  %4d", size, r.framesPerSecond, r.megabytesPerSecond,
                         r.framesPerPublish, r.cpuMicrosecondsPerFrame, r.dropped, r.gaps))
            lost = lost || r.dropped > 0 || r.gaps > 0
        }
        if pings > 0 {
            let rtt = try LinkPing(endpoint: endpoint, count: pings).measure()
            guard rtt.count == pings else {
                print("round trips: \(pings - rtt.count) of \(pings) pings unanswered within 1 s")
                throw ExitCode(2)
            }
            let sorted = rtt.sorted()
            func percentile(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            print(String(format: "round trip of one 100 B frame, %d pings: p50 %.0f µs, p99 %.0f µs, max %.0f µs", pings,
                         percentile(0.5), percentile(0.99), sorted.last!))
        }
        if lost { throw ExitCode(2) }
    }
}

/// Round trips through two links, one frame in flight: node 2 echoes what node 1 sends.
private struct LinkPing {
    let endpoint: RedisEndpoint
    let count: Int

    /// Each answered ping's round trip in microseconds.
    func measure() throws -> [Double] {
        final class Echo: @unchecked Sendable {
            // `@unchecked Sendable`: set once before any frame flows, then read on node 2's loop.
            var link: NodeLink?
        }
        let keys = ClusterKeys(prefix: "link-ping-\(getpid())")
        let loops = (try ClusterLoop(name: "node-1-link"), try ClusterLoop(name: "node-2-link"))
        let configuration = NodeLink.Configuration(redis: .init(endpoint: endpoint), keys: keys)
        let answered = DispatchSemaphore(value: 0)
        let echo = Echo()
        let a = NodeLink(node: NodeID(1), loop: loops.0, configuration: configuration, onFrame: { _, _ in answered.signal() }, onEvent: { _ in })
        let b = NodeLink(node: NodeID(2), loop: loops.1, configuration: configuration,
                         onFrame: { from, frame in echo.link?.send(Array(frame), to: from) }, onEvent: { _ in })
        echo.link = b
        defer {
            LinkRun.onLoop(loops.0) { a.close() }
            LinkRun.onLoop(loops.1) { b.close() }
            loops.0.shutdown()
            loops.1.shutdown()
        }
        try LinkRun.start(a, on: loops.0, b, on: loops.1, endpoint: endpoint)
        let frame = [UInt8](repeating: 0x50, count: 100)
        var rtt: [Double] = []
        rtt.reserveCapacity(count)
        for _ in 0..<count {
            let start = DispatchTime.now().uptimeNanoseconds
            a.send(frame, to: NodeID(2))
            guard answered.wait(timeout: .now() + 1) == .success else { break }
            rtt.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000)
        }
        return rtt
    }
}

/// One measured run of `link` at one frame size.
private struct LinkRun {
    let endpoint: RedisEndpoint
    let frameSize: Int
    let senders: Int
    let windowFrames: Int
    let windowBytes: Int
    let maxBatchBytes: Int?
    let warmup: Double
    let seconds: Double

    struct Result {
        var framesPerSecond: Double
        var megabytesPerSecond: Double
        var framesPerPublish: Double
        var cpuMicrosecondsPerFrame: Double
        var dropped: Int
        var gaps: Int
    }

    func measure() throws -> Result {
        let keys = ClusterKeys(prefix: "link-bench-\(getpid())-\(frameSize)")
        let received = Atomic<Int>(0)
        let gaps = Atomic<Int>(0)
        let loops = (try ClusterLoop(name: "node-1-link"), try ClusterLoop(name: "node-2-link"))
        var configuration = NodeLink.Configuration(redis: .init(endpoint: endpoint), keys: keys)
        if let maxBatchBytes { configuration.maxBatchBytes = maxBatchBytes }
        let a = NodeLink(node: NodeID(1), loop: loops.0, configuration: configuration, onFrame: { _, _ in }, onEvent: { _ in })
        let b = NodeLink(node: NodeID(2), loop: loops.1, configuration: configuration,
                         onFrame: { _, _ in received.add(1, ordering: .relaxed) },
                         onEvent: { if case .gap = $0 { gaps.add(1, ordering: .relaxed) } })
        defer {
            Self.onLoop(loops.0) { a.close() }
            Self.onLoop(loops.1) { b.close() }
            loops.0.shutdown()
            loops.1.shutdown()
        }
        try Self.start(a, on: loops.0, b, on: loops.1, endpoint: endpoint)
        let sent = Atomic<Int>(0)
        let stop = Atomic<Bool>(false)
        let frame = [UInt8](repeating: 0x42, count: frameSize)
        let window = min(windowFrames, max(1, windowBytes / max(1, frameSize)))
        let threads = (0..<senders).map { _ in
            Thread {
                while !stop.load(ordering: .relaxed) {
                    if sent.load(ordering: .relaxed) - received.load(ordering: .relaxed) >= window {
                        // Sleep, not spin: on two cores a spinning sender starves the
                        // loops and Redis it is measuring.
                        usleep(50)
                        continue
                    }
                    sent.add(1, ordering: .relaxed)
                    a.send(frame, to: NodeID(2))
                }
            }
        }
        for t in threads { t.start() }
        usleep(UInt32(warmup * 1_000_000))
        let startFrames = received.load(ordering: .relaxed)
        let startBatches = Self.onLoop(loops.0) { a.statistics }
        let startCPU = Self.processCPUSeconds()
        let startTime = Date()
        usleep(UInt32(seconds * 1_000_000))
        let frames = received.load(ordering: .relaxed) - startFrames
        let elapsed = Date().timeIntervalSince(startTime)
        let cpu = Self.processCPUSeconds() - startCPU
        let endStats = Self.onLoop(loops.0) { a.statistics }
        stop.store(true, ordering: .relaxed)
        usleep(100_000)
        let batches = endStats.batchesSent - startBatches.batchesSent
        let sentFrames = endStats.framesSent - startBatches.framesSent
        return Result(framesPerSecond: Double(frames) / elapsed,
                      megabytesPerSecond: Double(frames * frameSize) / elapsed / 1e6,
                      framesPerPublish: batches > 0 ? Double(sentFrames) / Double(batches) : 0,
                      cpuMicrosecondsPerFrame: frames > 0 ? cpu * 1e6 / Double(frames) : 0,
                      dropped: endStats.framesDropped, gaps: gaps.load(ordering: .relaxed))
    }

    /// Runs `body` on `loop` and waits for its result.
    /// Starts both links on their loops and waits (10 s at most) until both are connected
    /// and subscribed.
    static func start(_ a: NodeLink, on loopA: ClusterLoop, _ b: NodeLink, on loopB: ClusterLoop,
                      endpoint: RedisEndpoint) throws {
        onLoop(loopA) { a.start() }
        onLoop(loopB) { b.start() }
        let readyBy = Date().addingTimeInterval(10)
        while !(onLoop(loopA) { a.isReady } && onLoop(loopB) { b.isReady }) {
            guard Date() < readyBy else { throw ValidationError("the links did not connect to \(endpoint) within 10 s") }
            usleep(10_000)
        }
    }

    static func onLoop<T>(_ loop: ClusterLoop, _ body: @escaping () -> T) -> T {
        nonisolated(unsafe) var result: T?
        nonisolated(unsafe) let work = body
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            result = work()
            done.signal()
        }
        done.wait()
        return result!
    }

    private static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
