/// permessage-deflate (RFC 7692) negotiation: pure header parsing and decisions.
///
/// Server policy, chosen for memory (see Protocol/README.md, "Compression"):
/// - The server always answers `server_no_context_takeover` (§7.1.1.1 allows it unasked), so
///   every connection of a loop compresses through one shared zlib stream, reset per message:
///   no per-connection compressor (a zlib deflate state is ~256 KiB).
/// - It echoes `client_no_context_takeover` when offered; then inflation also goes through a
///   shared stream. Otherwise each connection gets its own inflater on its first compressed
///   message (~40 KiB).
/// - Inflation always uses a 15-bit window, which decodes any smaller window.
/// - zlib cannot deflate with an 8-bit window; an offer of `server_max_window_bits=8` is
///   still accepted and honoured by compressing with run-length matches only (`Z_RLE`,
///   distance 1), which is valid for every window size.
public enum PerMessageDeflate {
    /// The negotiated parameters of one connection.
    public struct Parameters: Equatable, Sendable {
        /// The server resets its compressor after each message.
        public var serverNoContextTakeover: Bool
        /// The client resets its compressor after each message.
        public var clientNoContextTakeover: Bool
        /// The LZ77 window the server compresses with (8...15).
        public var serverMaxWindowBits: Int
        /// The LZ77 window the client compresses with (8...15).
        public var clientMaxWindowBits: Int

        public init(serverNoContextTakeover: Bool = false, clientNoContextTakeover: Bool = false,
                    serverMaxWindowBits: Int = 15, clientMaxWindowBits: Int = 15) {
            self.serverNoContextTakeover = serverNoContextTakeover
            self.clientNoContextTakeover = clientNoContextTakeover
            self.serverMaxWindowBits = serverMaxWindowBits
            self.clientMaxWindowBits = clientMaxWindowBits
        }

        /// The `Sec-WebSocket-Extensions` value of a server response accepting these.
        public var responseHeaderValue: String {
            var s = "permessage-deflate"
            if serverNoContextTakeover { s += "; server_no_context_takeover" }
            if clientNoContextTakeover { s += "; client_no_context_takeover" }
            if serverMaxWindowBits < 15 { s += "; server_max_window_bits=\(serverMaxWindowBits)" }
            if clientMaxWindowBits < 15 { s += "; client_max_window_bits=\(clientMaxWindowBits)" }
            return s
        }
    }

    /// One extension from a `Sec-WebSocket-Extensions` list: a name and its parameters.
    public struct Extension: Equatable, Sendable {
        public var name: String
        public var parameters: [(name: String, value: String?)]
        public static func == (a: Extension, b: Extension) -> Bool {
            a.name == b.name && a.parameters.elementsEqual(b.parameters) { $0.name == $1.name && $0.value == $1.value }
        }
    }

    /// Parses an extension list (RFC 6455 §9.1). - Returns: nil if it is malformed.
    public static func parseExtensions(_ value: String) -> [Extension]? {
        var result: [Extension] = []
        for item in splitOutsideQuotes(value, on: ",") {
            let parts = splitOutsideQuotes(item, on: ";").map { trim($0) }
            guard let name = parts.first, isToken(name) else {
                if parts.allSatisfy({ $0.isEmpty }) { continue }  // empty list elements are allowed
                return nil
            }
            var params: [(String, String?)] = []
            for p in parts.dropFirst() {
                if let eq = p.firstIndex(of: "=") {
                    let key = trim(p[..<eq])
                    var val = trim(p[p.index(after: eq)...])
                    if val.hasPrefix("\""), val.hasSuffix("\""), val.count >= 2 {
                        val = String(val.dropFirst().dropLast())
                    }
                    guard isToken(key), isToken(val) else { return nil }
                    params.append((key.lowercased(), val))
                } else {
                    guard isToken(p) else { return nil }
                    params.append((p.lowercased(), nil))
                }
            }
            result.append(Extension(name: name.lowercased(), parameters: params))
        }
        return result
    }

    /// Picks the first acceptable permessage-deflate offer (RFC 7692 §5, §7.1).
    /// - Returns: the parameters to use, or nil to run without compression.
    public static func negotiate(offers value: String) -> Parameters? {
        guard let list = parseExtensions(value) else { return nil }
        for ext in list where ext.name == "permessage-deflate" {
            if let p = accept(ext) { return p }
        }
        return nil
    }

    /// Validates one offer; nil declines it.
    static func accept(_ offer: Extension) -> Parameters? {
        var p = Parameters(serverNoContextTakeover: true)
        var seen = Set<String>()
        for (name, value) in offer.parameters {
            // §7.1: an offer with a duplicated parameter must be declined.
            guard seen.insert(name).inserted else { return nil }
            switch name {
            case "server_no_context_takeover":
                guard value == nil else { return nil }
            case "client_no_context_takeover":
                guard value == nil else { return nil }
                p.clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let v = value, let bits = windowBits(v) else { return nil }
                p.serverMaxWindowBits = bits
            case "client_max_window_bits":
                // Without a value it only says the client supports the parameter.
                if let v = value {
                    guard let bits = windowBits(v) else { return nil }
                    p.clientMaxWindowBits = bits
                }
            default:
                return nil  // §7.1: unknown parameters decline the offer.
            }
        }
        // Our inflater decodes any window, so the client's own limit needs no answer.
        p.clientMaxWindowBits = 15
        return p
    }

    /// 8...15 written without leading zeros (§7.1.2.1).
    static func windowBits(_ s: String) -> Int? {
        guard let first = s.first, first != "0", s.count <= 2, let v = Int(s), (8...15).contains(v) else { return nil }
        return v
    }

    // MARK: client side (load generator, tests)

    /// The offer a client sends: both sides without context takeover, so neither needs
    /// per-connection zlib memory.
    public static let clientOffer = "permessage-deflate; client_no_context_takeover; server_no_context_takeover"

    /// Reads a server's response to `clientOffer`. - Returns: nil if it is not acceptable.
    public static func clientAccept(response value: String) -> Parameters? {
        guard let list = parseExtensions(value), list.count == 1, list[0].name == "permessage-deflate" else { return nil }
        var p = Parameters()
        for (name, v) in list[0].parameters {
            switch name {
            case "server_no_context_takeover": p.serverNoContextTakeover = true
            case "client_no_context_takeover": p.clientNoContextTakeover = true
            case "server_max_window_bits": guard let v, let b = windowBits(v) else { return nil }; p.serverMaxWindowBits = b
            case "client_max_window_bits": guard let v, let b = windowBits(v) else { return nil }; p.clientMaxWindowBits = b
            default: return nil
            }
        }
        return p
    }

    // MARK: token helpers (RFC 7230 §3.2.6)

    static func isToken<S: StringProtocol>(_ s: S) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { c in
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "!#$%&'*+-.^_`|~".utf8.contains(c)
            }
        }
    }

    static func trim<S: StringProtocol>(_ s: S) -> String {
        var sub = Substring(s)
        while let f = sub.first, f == " " || f == "\t" { sub = sub.dropFirst() }
        while let l = sub.last, l == " " || l == "\t" { sub = sub.dropLast() }
        return String(sub)
    }

    static func splitOutsideQuotes(_ s: String, on sep: Character) -> [String] {
        var parts: [String] = []
        var current = ""
        var inQuotes = false
        for ch in s {
            if ch == "\"" { inQuotes.toggle() }
            if ch == sep, !inQuotes { parts.append(current); current = "" } else { current.append(ch) }
        }
        parts.append(current)
        return parts
    }
}
