/// Everything that stops a load run, each with the message the user sees.
///
/// Correctness failures (an echo lost, a connection refused) are not thrown: they are
/// counted in the results, printed, and turn the exit status to 2 (see `Verdict`).
enum LoadTestError: Error, CustomStringConvertible {
    /// `--url` is not `ws://HOST:PORT/PATH` with an IPv4 loopback host.
    case invalidURL(String, reason: String)
    /// The run needs more file descriptors than this process may open.
    case tooFewFileDescriptors(needed: Int, limit: Int)
    /// The server process cannot hold that many connections either.
    case serverFileDescriptorLimit(pid: Int32, needed: Int, limit: Int)
    /// /proc/PID could not be read (the server exited, or a wrong PID).
    case serverProcessUnreadable(pid: Int32, path: String)
    /// A syscall that sets up the run failed (epoll_create, setrlimit, ...).
    case syscallFailed(String, errno: Int32)
    /// A command-line value is out of range.
    case invalidOption(String)
    /// The JSON report could not be written.
    case cannotWriteReport(path: String, reason: String)

    var description: String {
        switch self {
        case .invalidURL(let url, let reason):
            return "--url \(url): \(reason) (expected ws://127.x.y.z:PORT/PATH)"
        case .tooFewFileDescriptors(let needed, let limit):
            return "this run needs \(needed) file descriptors but RLIMIT_NOFILE allows \(limit); "
                + "raise the hard limit (ulimit -Hn, needs CAP_SYS_RESOURCE) or use fewer --connections"
        case .serverFileDescriptorLimit(let pid, let needed, let limit):
            return "server \(pid) may open at most \(limit) files (/proc/\(pid)/limits) but this run needs \(needed) connections; "
                + "start it from a shell with a higher `ulimit -n`"
        case .serverProcessUnreadable(let pid, let path):
            return "--server-pid \(pid): cannot read \(path); is the server running?"
        case .syscallFailed(let call, let errno):
            return "\(call) failed: \(String(cString: strerror(errno))) (errno \(errno))"
        case .invalidOption(let message):
            return message
        case .cannotWriteReport(let path, let reason):
            return "cannot write --json \(path): \(reason)"
        }
    }
}

import Glibc
