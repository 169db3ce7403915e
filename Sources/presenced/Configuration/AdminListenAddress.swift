import Glibc
import Transport

/// Where the operator listener (`/metrics`, `/admin/…`) listens: the `admin-listen` setting.
/// `HOST:PORT` (an IP literal; IPv6 in brackets, `[::1]:9090`), `unix:/PATH`, or `off`.
enum AdminListenAddress: Equatable, CustomStringConvertible {
    case tcp(host: String, port: Int)
    case unix(path: String)
    case off

    init?(parsing text: String) {
        if text == "off" { self = .off; return }
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            // sun_path holds 108 bytes with the terminator.
            guard path.hasPrefix("/"), path.utf8.count < 108 else { return nil }
            self = .unix(path: path)
            return
        }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, host, &v6) == 1 else { return nil }
        } else {
            var v4 = in_addr()
            guard inet_pton(AF_INET, host, &v4) == 1 else { return nil }
        }
        self = .tcp(host: host, port: port)
    }

    var description: String {
        switch self {
        case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): return "unix:\(path)"
        case .off: return "off"
        }
    }

    /// The transport endpoint, nil when off.
    var endpoint: ServerConfiguration.Endpoint? {
        switch self {
        case .tcp(let host, let port): return .init(host: host, port: port, isSingleLoop: true)
        case .unix(let path): return .init(unixPath: path)
        case .off: return nil
        }
    }

    /// The same address with the port actually bound (for the start-up log line).
    func bound(port: Int?) -> AdminListenAddress {
        if case .tcp(let host, _) = self, let port { return .tcp(host: host, port: port) }
        return self
    }
}
