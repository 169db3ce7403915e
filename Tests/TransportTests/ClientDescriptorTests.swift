import Foundation
import Glibc
import PresenceClient
import Synchronization
import Testing

/// The test client owns one descriptor and closes it exactly once.
///
/// A second `close` of a number the kernel has already handed to another thread closes
/// that thread's file. In CI a refused connection's double close took the /dev/null
/// descriptor Foundation's `Process` was about to `dup2` into a child, and
/// `ReloadTests` failed with EBADF from `posix_spawn`.
@Suite(.serialized) struct ClientDescriptorTests {
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

    /// Runs `attempt` `rounds` times while a neighbour thread keeps opening /dev/null,
    /// holding it briefly and checking it is still its own file (same device and inode)
    /// before closing it. - Returns: how many of the neighbour's descriptors were closed
    /// or replaced under it.
    static func descriptorsTakenFromANeighbour(rounds: Int, _ attempt: () -> Void) -> Int {
        let done = Atomic<Bool>(false)
        let taken = Atomic<Int>(0)
        let neighbour = Thread {
            while !done.load(ordering: .relaxed) {
                let fd = open("/dev/null", O_RDONLY)
                guard fd >= 0 else { continue }
                var before = stat(), after = stat()
                fstat(fd, &before)
                for _ in 0..<20 { sched_yield() }
                if fstat(fd, &after) != 0 || after.st_ino != before.st_ino || after.st_rdev != before.st_rdev {
                    // Not ours any more: leave it to whoever holds that number now.
                    taken.add(1, ordering: .relaxed)
                } else {
                    close(fd)
                }
            }
            done.store(false, ordering: .relaxed)
        }
        neighbour.start()
        for _ in 0..<rounds { attempt() }
        done.store(true, ordering: .relaxed)
        // The neighbour clears the flag as it leaves (bounded: one loop turn).
        for _ in 0..<10_000 where done.load(ordering: .relaxed) { usleep(100) }
        return taken.load(ordering: .relaxed)
    }

    /// Each check runs in its own process (an exit test): the control's double close
    /// would otherwise take descriptors from the tests running beside it.
    @Test func aRefusedConnectionClosesItsDescriptorOnce() async throws {
        let refusing = try Self.refusingPort()
        defer { close(refusing.fd) }
        #expect(throws: WebSocketClient.Failure.closed) { _ = try WebSocketClient(port: refusing.port) }

        // Positive control: a refused connect closed twice, as the client did before,
        // is seen by the neighbour (exit 1 if it is not).
        await #expect(processExitsWith: .success) {
            guard let refusing = try? ClientDescriptorTests.refusingPort() else { exit(2) }
            let seen = ClientDescriptorTests.descriptorsTakenFromANeighbour(rounds: 5_000) {
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_port = in_port_t(UInt16(refusing.port).bigEndian)
                addr.sin_addr.s_addr = inet_addr("127.0.0.1")
                _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
                close(fd)
                close(fd)
            }
            exit(seen > 0 ? 0 : 1)
        }
        // The client: no descriptor of the neighbour's is ever taken (exit 1 if one is).
        await #expect(processExitsWith: .success) {
            guard let refusing = try? ClientDescriptorTests.refusingPort() else { exit(2) }
            let taken = ClientDescriptorTests.descriptorsTakenFromANeighbour(rounds: 5_000) {
                _ = try? WebSocketClient(port: refusing.port)
            }
            exit(taken == 0 ? 0 : 1)
        }
    }
}
