import Glibc

/// A parsed `ws://HOST:PORT/PATH`: the load client speaks plain WebSocket over IPv4
/// loopback only, so the host must be a 127.0.0.0/8 literal (or `localhost`).
struct WebSocketURL: CustomStringConvertible {
    /// The server address in network byte order.
    var address: in_addr
    var host: String
    var port: UInt16
    /// The request target, starting with "/".
    var path: String

    init(_ text: String) throws(LoadTestError) {
        guard text.hasPrefix("ws://") else {
            throw .invalidURL(text, reason: text.hasPrefix("wss://") ? "wss is not supported by the load client" : "must start with ws://")
        }
        let rest = text.dropFirst(5)
        let authority = rest.prefix { $0 != "/" }
        let pathPart = rest.dropFirst(authority.count)
        path = pathPart.isEmpty ? "/" : String(pathPart)
        guard let colon = authority.lastIndex(of: ":"), let p = UInt16(authority[authority.index(after: colon)...]), p > 0 else {
            throw .invalidURL(text, reason: "needs an explicit port")
        }
        port = p
        host = String(authority[..<colon])
        let literal = host == "localhost" ? "127.0.0.1" : host
        var a = in_addr()
        guard inet_pton(AF_INET, literal, &a) == 1 else { throw .invalidURL(text, reason: "host must be an IPv4 literal") }
        // Loopback only: this tool must never load a machine it does not run on.
        guard UInt32(bigEndian: a.s_addr) >> 24 == 127 else { throw .invalidURL(text, reason: "host must be in 127.0.0.0/8") }
        address = a
    }

    /// `--url`: one URL, or several separated by commas (a cluster's nodes); connection i
    /// of a run goes to URL i mod n.
    static func list(_ text: String) throws(LoadTestError) -> [WebSocketURL] {
        var urls: [WebSocketURL] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) { urls.append(try WebSocketURL(String(part))) }
        return urls
    }

    /// The `Host` header value.
    var hostHeader: String { "\(host):\(port)" }

    var description: String { "ws://\(host):\(port)\(path)" }
}
