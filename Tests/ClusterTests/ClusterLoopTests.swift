import Cluster
import Foundation
import Glibc
import Testing

@Suite struct ClusterLoopTests {
    @Test func aWatchedDescriptorWakesItsCallbackOnlyForItsInterest() throws {
        let link = try LinkHarness()
        defer { link.loop.shutdown() }
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let reads = Recorder<UInt8>()
        let id = link.sync {
            link.loop.watch(readEnd, onReadable: {
                var byte: UInt8 = 0
                if read(readEnd, &byte, 1) == 1 { reads.append(byte) }
            }, onWritable: {})
        }
        // No interest yet: a byte waits unread.
        var one: UInt8 = 1
        _ = write(writeEnd, &one, 1)
        usleep(100_000)
        #expect(reads.count == 0)
        link.sync { link.loop.setInterest(id, adding: .read) }
        #expect(waitUntil(timeout: 2) { reads.all == [1] })
        // Interest removed: the next byte waits again, until the interest is back.
        link.sync { link.loop.setInterest(id, removing: .read) }
        var two: UInt8 = 2
        _ = write(writeEnd, &two, 1)
        usleep(100_000)
        #expect(reads.all == [1])
        link.sync { link.loop.setInterest(id, adding: .read) }
        #expect(waitUntil(timeout: 2) { reads.all == [1, 2] })
        link.sync { link.loop.unwatch(id) }
        var three: UInt8 = 3
        _ = write(writeEnd, &three, 1)
        usleep(100_000)
        #expect(reads.all == [1, 2])
    }

    @Test func timersRunByDueTimeAndACancelledOneNever() throws {
        let link = try LinkHarness()
        defer { link.loop.shutdown() }
        let fired = Recorder<String>()
        let started = Date()
        link.sync {
            link.loop.schedule(afterMilliseconds: 150) { fired.append("150") }
            let cancelled = link.loop.schedule(afterMilliseconds: 50) { fired.append("cancelled") }
            link.loop.schedule(afterMilliseconds: 0) { fired.append("0a") }
            link.loop.schedule(afterMilliseconds: 0) { fired.append("0b") }
            link.loop.schedule(afterMilliseconds: 100) { fired.append("100") }
            link.loop.cancel(cancelled)
        }
        #expect(waitUntil(timeout: 2) { fired.count == 4 })
        #expect(Date().timeIntervalSince(started) >= 0.15)
        usleep(100_000)
        #expect(fired.all == ["0a", "0b", "100", "150"])
        #expect(link.sync { link.loop.isOnLoopThread })
        #expect(!link.loop.isOnLoopThread)
    }
}
