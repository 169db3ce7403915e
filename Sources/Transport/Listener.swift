import CPosix
import Glibc

/// A listening TCP socket. Every event loop opens its own on the same address with
/// `SO_REUSEPORT`, so the kernel spreads new connections over loops with no shared accept
/// queue and no lock.
struct Listener {
    let fd: Int32
    let isTLS: Bool
    /// The index of its endpoint in `ServerConfiguration.endpoints`.
    var endpoint = 0

    /// Binds and listens on the endpoint, non-blocking.
    static func open(_ endpoint: ServerConfiguration.Endpoint, backlog: Int32) throws -> Listener {
        if let path = endpoint.unixPath { return try openUnix(path: path, backlog: backlog) }
        return try open(host: endpoint.host, port: endpoint.port, backlog: backlog, isTLS: endpoint.isTLS,
                        reusesPort: !endpoint.isSingleLoop)
    }

    /// Binds and listens on a unix-domain socket, replacing a stale socket file.
    static func openUnix(path: String, backlog: Int32) throws -> Listener {
        var a = sockaddr_un()
        a.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: a.sun_path) else {
            throw TransportError("unix socket path \(path): empty or too long")
        }
        withUnsafeMutableBytes(of: &a.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError("socket", errno: cposix_errno()) }
        var st = stat()
        if lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
        let bound = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let e = cposix_errno()
            close(fd)
            throw TransportError("bind unix:\(path)", errno: e)
        }
        return Listener(fd: fd, isTLS: false)
    }

    /// Binds and listens on `host:port` (IPv4 or IPv6 literal), non-blocking.
    static func open(host: String, port: Int, backlog: Int32, isTLS: Bool, reusesPort: Bool = true) throws -> Listener {
        var storage = sockaddr_storage()
        let length: socklen_t
        let family: Int32
        if host.contains(":") {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET6, host, &a.sin6_addr) == 1 else { throw TransportError("bad IPv6 address \(host)") }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: a, as: sockaddr_in6.self) }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
            family = AF_INET6
        } else {
            var a = sockaddr_in()
            a.sin_family = sa_family_t(AF_INET)
            a.sin_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET, host, &a.sin_addr) == 1 else { throw TransportError("bad IPv4 address \(host)") }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: a, as: sockaddr_in.self) }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
            family = AF_INET
        }
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TransportError("socket", errno: cposix_errno()) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusesPort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) }
        let bound = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else {
            let e = cposix_errno()
            close(fd)
            throw TransportError("bind \(host):\(port)", errno: e)
        }
        guard listen(fd, backlog) == 0 else {
            let e = cposix_errno()
            close(fd)
            throw TransportError("listen \(host):\(port)", errno: e)
        }
        return Listener(fd: fd, isTLS: isTLS)
    }

    /// The port actually bound (useful with port 0).
    var boundPort: Int {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return withUnsafeBytes(of: storage) { raw in
            let family = raw.load(as: sa_family_t.self)
            if family == sa_family_t(AF_INET6) { return Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)) }
            return Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
        }
    }
}

/// The peer address of an accepted socket, as text ("127.0.0.1", "::1").
func peerAddress(_ storage: sockaddr_storage) -> String {
    var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
    let isUnix = withUnsafeBytes(of: storage) { $0.load(as: sa_family_t.self) == sa_family_t(AF_UNIX) }
    if isUnix { return "unix" }
    withUnsafeBytes(of: storage) { raw in
        let family = raw.load(as: sa_family_t.self)
        if family == sa_family_t(AF_INET6) {
            var a = raw.load(as: sockaddr_in6.self).sin6_addr
            inet_ntop(AF_INET6, &a, &buf, socklen_t(buf.count))
        } else {
            var a = raw.load(as: sockaddr_in.self).sin_addr
            inet_ntop(AF_INET, &a, &buf, socklen_t(buf.count))
        }
    }
    return Syscall.text(buf)
}
