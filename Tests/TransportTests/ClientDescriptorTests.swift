import CPosix
import Glibc
import PresenceClient
import Testing

/// The test client owns one descriptor and closes it exactly once.
///
/// A second `close` of a number the kernel has already handed to another thread closes
/// that thread's file. In CI a refused connection's double close took the /dev/null
/// descriptor Foundation's `Process` was about to `dup2` into a child, and
/// `ReloadTests` failed with EBADF from `posix_spawn`.
///
/// The check is deterministic: a second `close` of a descriptor that nothing has reused
/// yet fails with EBADF, and nothing after it in the client's failing `init` sets
/// `errno` again. (A race against a thread that keeps opening files also shows the
/// double close, but only when both threads get a core at once, which a loaded CI
/// machine does not promise.)
@Suite struct ClientDescriptorTests {
    /// A loopback port that refuses connections: bound, never listening, kept bound for
    /// the test so nothing else takes it. - Returns: the socket and its port.
    static func refusingPort() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        try #require(bound == 0)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    @Test func aRefusedConnectionClosesItsDescriptorOnce() throws {
        let refusing = try Self.refusingPort()
        defer { close(refusing.fd) }

        // Positive control: a second close leaves EBADF in errno. It closes a copy at
        // the top of the descriptor limit, a number no other test in this process is
        // given, so no one else's file is at risk.
        var limit = rlimit()
        try #require(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
        let topNumber = Int32(min(limit.rlim_cur, 1 << 20) - 1)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let top = fcntl(fd, F_DUPFD, topNumber)
        close(fd)
        try #require(top == topNumber)
        #expect(close(top) == 0)
        errno = 0
        close(top)
        #expect(cposix_errno() == EBADF, "a second close should leave EBADF")

        // The client: refused, it closes its descriptor once, so the last call it made
        // did not fail with EBADF.
        for _ in 0..<20 {
            errno = 0
            #expect(throws: WebSocketClient.Failure.closed) { _ = try WebSocketClient(port: refusing.port) }
            #expect(cposix_errno() != EBADF, "a refused WebSocketClient closed a descriptor that was no longer its own")
        }
    }
}
