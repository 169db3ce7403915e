import COpenSSL

/// The server side of the opening handshake (RFC 6455 §4.2).
public enum Handshake {
    /// What a route of the server offers to an upgrading client.
    public struct Policy: Sendable {
        /// Subprotocols in the server's order of preference; empty accepts none.
        public var subprotocols: [String]
        /// Refuse clients that offer none of `subprotocols`.
        public var requiresSubprotocol: Bool
        /// Allowed `Origin` values (exact, case-insensitive); empty allows any. Requests
        /// without `Origin` come from non-browser clients and are allowed.
        public var allowedOrigins: [String]
        /// Whether permessage-deflate may be negotiated.
        public var allowsCompression: Bool

        public init(subprotocols: [String] = [], requiresSubprotocol: Bool = false,
                    allowedOrigins: [String] = [], allowsCompression: Bool = true) {
            self.subprotocols = subprotocols
            self.requiresSubprotocol = requiresSubprotocol
            self.allowedOrigins = allowedOrigins
            self.allowsCompression = allowsCompression
        }
    }

    /// An accepted upgrade: the 101 response and what was negotiated.
    public struct Accepted: Sendable {
        public var response: HTTPResponse
        public var subprotocol: String?
        public var compression: PerMessageDeflate.Parameters?
    }

    /// The GUID of RFC 6455 §1.3.
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Whether `head` asks for a WebSocket upgrade at all (an `Upgrade: websocket` header);
    /// other requests are plain HTTP.
    public static func isUpgradeRequest(_ head: HTTPRequestHead) -> Bool {
        head.tokens("Upgrade").contains("websocket")
    }

    /// Validates an upgrade request against RFC 6455 §4.2.1 and `policy`.
    /// - Returns: the 101 response to send, or the error response (400, 403, 405, 426).
    public static func accept(_ head: HTTPRequestHead, policy: Policy) -> Result<Accepted, HandshakeRejection> {
        guard head.method == "GET" else { return .failure(.methodNotAllowed) }
        guard head.version >= 11 else { return .failure(.badRequest("WebSocket needs HTTP/1.1")) }
        guard let host = head.value("Host"), !host.isEmpty else { return .failure(.badRequest("missing or repeated Host")) }
        guard head.tokens("Upgrade").contains("websocket") else { return .failure(.badRequest("Upgrade must include websocket")) }
        guard head.tokens("Connection").contains("upgrade") else { return .failure(.badRequest("Connection must include Upgrade")) }
        guard let version = head.value("Sec-WebSocket-Version"), version == "13" else { return .failure(.unsupportedVersion) }
        guard let key = head.value("Sec-WebSocket-Key"), isValidKey(key) else {
            return .failure(.badRequest("Sec-WebSocket-Key must be 16 bytes in base64"))
        }
        if !policy.allowedOrigins.isEmpty {
            let origins = head.values("Origin")
            if origins.count > 1 { return .failure(.badRequest("repeated Origin")) }
            if let origin = origins.first, !policy.allowedOrigins.contains(where: { $0.caseInsensitiveEquals(origin) }) {
                return .failure(.forbiddenOrigin)
            }
        }
        // Subprotocol: the server's most preferred among those the client offers.
        let offered = head.values("Sec-WebSocket-Protocol").flatMap { $0.split(separator: ",") }.map { PerMessageDeflate.trim($0) }
        let chosen = policy.subprotocols.first { offered.contains($0) }
        if chosen == nil, policy.requiresSubprotocol {
            return .failure(.badRequest("no supported subprotocol; offer one of: \(policy.subprotocols.joined(separator: ", "))"))
        }
        var compression: PerMessageDeflate.Parameters?
        if policy.allowsCompression {
            let offers = head.values("Sec-WebSocket-Extensions").joined(separator: ", ")
            if !offers.isEmpty { compression = PerMessageDeflate.negotiate(offers: offers) }
        }
        var headers: [(name: String, value: String)] = [
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", acceptValue(forKey: key)),
        ]
        if let chosen { headers.append(("Sec-WebSocket-Protocol", chosen)) }
        if let compression { headers.append(("Sec-WebSocket-Extensions", compression.responseHeaderValue)) }
        return .success(Accepted(response: HTTPResponse(status: 101, headers: headers), subprotocol: chosen, compression: compression))
    }

    /// `Sec-WebSocket-Accept`: base64(SHA-1(key + GUID)) (§4.2.2).
    public static func acceptValue(forKey key: String) -> String {
        let input = Array((key + guid).utf8)
        var digest = [UInt8](repeating: 0, count: 20)
        var outLength: UInt32 = 0
        _ = input.withUnsafeBytes { i in
            digest.withUnsafeMutableBytes { d in
                EVP_Digest(i.baseAddress, i.count, d.baseAddress!.assumingMemoryBound(to: UInt8.self), &outLength, EVP_sha1(), nil)
            }
        }
        return Base64.encode(digest)
    }

    /// A key is 16 bytes in base64: 22 alphabet characters and "==" (§4.1).
    public static func isValidKey(_ key: String) -> Bool {
        let u = Array(key.utf8)
        guard u.count == 24, u[22] == UInt8(ascii: "="), u[23] == UInt8(ascii: "=") else { return false }
        return u[0..<22].allSatisfy(Base64.isAlphabet)
    }
}

/// Why an upgrade was refused, and the HTTP response that says so.
public enum HandshakeRejection: Error, Equatable, Sendable {
    /// Not GET (405).
    case methodNotAllowed
    /// A required header is missing or malformed (400).
    case badRequest(String)
    /// `Sec-WebSocket-Version` is not 13 (426, with `Sec-WebSocket-Version: 13`).
    case unsupportedVersion
    /// `Origin` is not on the allow-list (403).
    case forbiddenOrigin

    public var response: HTTPResponse {
        switch self {
        case .methodNotAllowed:
            return .error(405, code: "method_not_allowed", message: "WebSocket upgrades use GET", headers: [("Allow", "GET")])
        case .badRequest(let why):
            return .error(400, code: "bad_handshake", message: why)
        case .unsupportedVersion:
            return .error(426, code: "unsupported_websocket_version", message: "unsupported WebSocket version; use 13",
                          headers: [("Sec-WebSocket-Version", "13")])
        case .forbiddenOrigin:
            return .error(403, code: "origin_not_allowed", message: "origin not allowed")
        }
    }
}

/// Base64 (RFC 4648 §4). Encoding goes through OpenSSL; the alphabet test is here.
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8](repeating: 0, count: (bytes.count + 2) / 3 * 4 + 1)
        let n = bytes.withUnsafeBufferPointer { b in
            out.withUnsafeMutableBufferPointer { o in EVP_EncodeBlock(o.baseAddress, b.baseAddress, Int32(b.count)) }
        }
        return String(decoding: out[0..<Int(n)], as: UTF8.self)
    }

    static func isAlphabet(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "+"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }
}
