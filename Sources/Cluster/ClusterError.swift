import Glibc

/// What can go wrong in the cluster link, one case per outcome an owner handles
/// differently.
public enum ClusterError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The link is not connected (connecting, or waiting to retry): the command was not
    /// sent. Owners re-assert their state when the link reports `.connected` again.
    case notConnected
    /// The connection was lost (or closed) after the command was sent, before its reply:
    /// the command may or may not have run.
    case connectionLost(String)
    /// The command was refused locally: hiredis could not queue it, or it was an ordinary
    /// command on a connection that subscribes (Redis would refuse it in that mode).
    case rejected(String)
    /// Redis answered, but not in the shape the caller's script or command promises.
    case unexpectedReply(String)
    /// A system call failed while setting up the loop.
    case system(String, errno: Int32)

    public var description: String {
        switch self {
        case .notConnected: "not connected to Redis"
        case .connectionLost(let why): "connection to Redis lost before the reply: \(why)"
        case .rejected(let why): "command rejected: \(why)"
        case .unexpectedReply(let what): "unexpected reply from Redis: \(what)"
        case .system(let call, let e): "\(call) failed: \(String(cString: strerror(e)))"
        }
    }
}
