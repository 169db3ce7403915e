import CJemalloc
@testable import Gateway
import Foundation
import Testing

/// The gateway's allocator is jemalloc, configured by `Sources/CJemalloc/shim.c`, in the
/// test processes (which link the same module) and in the `presenced` binary.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["PRESENCE_ALLOCATOR"] != "system",
               "built with PRESENCE_ALLOCATOR=system (a sanitizer run): no jemalloc to test"))
struct AllocatorTests {
    @Test func jemallocIsTheAllocatorAndTookItsConfiguration() throws {
        let version = try #require(cjemalloc_version(), "mallctl(\"version\") failed: malloc is not jemalloc")
        #expect(String(cString: version).hasPrefix("5."))
        // The default is 10,000 ms: 1,000 shows `malloc_conf` was read at start.
        #expect(cjemalloc_dirty_decay_ms() == 1_000)
    }

    @Test func theHeapFiguresFollowAllocations() throws {
        // 64 MiB in 1 KiB blocks: far above what tests running beside this one allocate.
        let count = 65_536
        var before = 0, resident = 0
        #expect(cjemalloc_heap_stats(&before, &resident) == 0)
        let blocks = (0..<count).map { _ in UnsafeMutableRawPointer.allocate(byteCount: 1_024, alignment: 8) }
        var during = 0
        #expect(cjemalloc_heap_stats(&during, &resident) == 0)
        for block in blocks { block.deallocate() }
        var after = 0
        #expect(cjemalloc_heap_stats(&after, &resident) == 0)
        #expect(during - before > 48 << 20, "allocated \(before) → \(during)")
        #expect(during - after > 48 << 20, "allocated \(during) → \(after) after freeing")
        #expect(cjemalloc_heap_allocated_bytes() > 0)
    }

    @Test func presencedRunsOnJemalloc() throws {
        let presenced = try BuiltProduct("presenced")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("allocator-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let daemon = try BuiltProduct.Running(
            presenced, ["--port", "0", "--admin-listen", "off", "--data-dir", directory.path],
            environment: BuiltProduct.cleanEnvironment())
        _ = try #require(daemon.awaitError(matching: #"ports=(\d+)"#, seconds: 20), "no listening line: \(daemon.errorOutput)")
        // Read to the end: /proc files report size 0, and a sized read stops after one page.
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/\(daemon.process.processIdentifier)/maps"))
        let maps = String(decoding: try file.readToEnd() ?? Data(), as: UTF8.self)
        try file.close()
        #expect(maps.contains("libjemalloc.so"))
        // Control: the same read sees the C library, so a missing jemalloc would show.
        #expect(maps.contains("libc.so"))
        kill(daemon.process.processIdentifier, SIGTERM)
        #expect(daemon.waitForExit(seconds: 15) == 0)
    }
}

/// When a sleeping thread flushes its allocator cache: once a second at most while it
/// works, once a second after it stops, and then it may sleep without bound.
@Suite struct ThreadCacheFlushTests {
    @Test func flushesASecondAfterWorkAndThenLetsTheThreadSleep() {
        let start = ContinuousClock.now
        var flushes = 0
        var flush = ThreadCacheFlush(now: start, flush: { flushes += 1 })
        #expect(flush.waitMilliseconds == Int.max)  // nothing cached: no wake-up for it
        flush.noteWoke(didWork: true, now: start + .milliseconds(100))
        #expect(flushes == 0)
        #expect(flush.waitMilliseconds == 1_000)
        flush.noteWoke(didWork: false, now: start + .milliseconds(900))
        #expect(flushes == 0)
        flush.noteWoke(didWork: false, now: start + .milliseconds(1_100))
        #expect(flushes == 1)
        #expect(flush.waitMilliseconds == Int.max)
        // Idle wake-ups after the flush do nothing.
        flush.noteWoke(didWork: false, now: start + .seconds(5))
        #expect(flushes == 1)
    }

    @Test func underSteadyWorkItFlushesOnceASecond() {
        let start = ContinuousClock.now
        var flushes = 0
        var flush = ThreadCacheFlush(now: start, flush: { flushes += 1 })
        for ms in stride(from: 10, through: 3_000, by: 10) {
            flush.noteWoke(didWork: true, now: start + .milliseconds(ms))
        }
        #expect(flushes == 3)
    }
}
