import CPosix
import Glibc

/// The outcome of a non-blocking I/O call.
@usableFromInline enum IOResult: Equatable {
    /// This many bytes moved (0 from a read means the peer closed).
    case processed(Int)
    /// The call would block (EAGAIN); wait for the next readiness event.
    case wouldBlock
    /// The connection is broken (ECONNRESET, EPIPE, ...); carries errno.
    case failed(Int32)
}

/// Thin syscall wrappers: EINTR is retried, EAGAIN becomes `.wouldBlock`, and errors that
/// can only be our own bugs (EBADF, EFAULT, EINVAL) stop the process.
@usableFromInline enum Syscall {
    @inlinable static func read(_ fd: Int32, _ p: UnsafeMutableRawPointer, _ n: Int) -> IOResult {
        while true {
            let r = Glibc.read(fd, p, n)
            if r >= 0 { return .processed(r) }
            let e = cposix_errno()
            if e == EINTR { continue }
            return classify(e)
        }
    }

    @inlinable static func write(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> IOResult {
        while true {
            let r = Glibc.write(fd, p, n)
            if r >= 0 { return .processed(r) }
            let e = cposix_errno()
            if e == EINTR { continue }
            return classify(e)
        }
    }

    @inlinable static func writev(_ fd: Int32, _ iov: UnsafePointer<iovec>, _ count: Int) -> IOResult {
        while true {
            let r = Glibc.writev(fd, iov, Int32(count))
            if r >= 0 { return .processed(r) }
            let e = cposix_errno()
            if e == EINTR { continue }
            return classify(e)
        }
    }

    @inlinable static func classify(_ e: Int32) -> IOResult {
        switch e {
        case EAGAIN: return .wouldBlock
        case EBADF, EFAULT:
            preconditionFailure("syscall on a bad descriptor or address (errno \(e)): a bug in Transport")
        default: return .failed(e)
        }
    }

    /// Milliseconds on the monotonic clock.
    @inlinable static func monotonicMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// The text of an errno value.
    static func describe(_ e: Int32) -> String { String(cString: strerror(e)) }

    /// A NUL-terminated C string in a buffer, as Swift text.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A failure to set up a socket, an epoll instance or TLS; thrown at start-up only.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ what: String, errno e: Int32? = nil) {
        description = e.map { "\(what): \(Syscall.describe($0))" } ?? what
    }
}
