import CPosix
import Glibc
import Testing
@testable import Transport

/// An idle WebSocket costs the server its `Connection` object and little else, so the
/// object's size is the per-connection memory figure (loadtest/README.md, "Bare idle
/// connection under jemalloc"). Its fields are sized and ordered to fill one 112-byte
/// allocator size class; these fail if a new field or a reordering moves it to the next.
struct ConnectionLayoutTests {
    @Test func aConnectionFitsThe112ByteSizeClass() {
        let conn = Connection(fd: -1, generation: 1, remoteAddress: "127.0.0.1", isTLS: false, now: 0)
        // What the allocator actually reserved for the object: jemalloc (linked into this
        // test process through the gateway) rounds to its size class, 112 for 97-112
        // bytes; glibc's malloc, were it the allocator, reports 120 for 105-120 bytes.
        let reserved = withExtendedLifetime(conn) { malloc_usable_size(Unmanaged.passUnretained(conn).toOpaque()) }
        #expect(reserved <= 120)
    }

    @Test func whatIdleConnectionsDoNotUseTakesOneWordEach() {
        #expect(MemoryLayout<InboundCarry?>.size == 8)
        #expect(MemoryLayout<PendingBytes>.size == 8)
        #expect(MemoryLayout<Connection.Flags>.size == 2)
    }

    @Test func pendingBytesHoldNothingOnceWritten() throws {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        var pending = PendingBytes()
        #expect(pending.isEmpty)
        Array("hello, ".utf8).withUnsafeBytes { pending.append($0) }
        Array("world".utf8).withUnsafeBytes { pending.append($0) }
        #expect(pending.count == 12)
        let iovecs = UnsafeMutablePointer<iovec>.allocate(capacity: 4)
        defer { iovecs.deallocate() }
        guard case .processed(12) = pending.write(to: fds[0], iovecs: iovecs, max: 4) else {
            Issue.record("the socket pair should take 12 bytes")
            return
        }
        #expect(pending.isEmpty && pending.count == 0)
        var received = [UInt8](repeating: 0, count: 32)
        let n = read(fds[1], &received, received.count)
        #expect(String(decoding: received[0..<max(n, 0)], as: UTF8.self) == "hello, world")
    }
}
