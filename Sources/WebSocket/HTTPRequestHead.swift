/// The head of an HTTP/1.1 request (RFC 9112 §3, §5): request line and header fields.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: String
    /// The request target as sent (origin form: path and optional query).
    public var target: String
    /// 10 for HTTP/1.0, 11 for HTTP/1.1.
    public var version: Int
    /// Header fields in order; names as sent.
    public var headers: [(name: String, value: String)]

    /// The path part of `target`.
    public var path: Substring { target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "" }
    /// The query part of `target`, without "?".
    public var query: Substring? {
        guard let q = target.firstIndex(of: "?") else { return nil }
        return target[target.index(after: q)...]
    }

    /// Every value of header `name` (case-insensitive), in order.
    public func values(_ name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }

    /// The single value of header `name`; nil when absent, or when sent more than once.
    public func value(_ name: String) -> String? {
        let v = values(name)
        return v.count == 1 ? v[0] : nil
    }

    /// The comma-separated tokens of every `name` header, lowercased (RFC 9110 §5.6.1).
    public func tokens(_ name: String) -> [String] {
        values(name).flatMap { $0.split(separator: ",") }
            .map { PerMessageDeflate.trim($0).lowercased() }
            .filter { !$0.isEmpty }
    }

    public static func == (a: HTTPRequestHead, b: HTTPRequestHead) -> Bool {
        a.method == b.method && a.target == b.target && a.version == b.version
            && a.headers.elementsEqual(b.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// Why a request head could not be parsed; each maps to an HTTP status.
public enum HTTPParseError: Error, Equatable, Sendable {
    /// The head is longer than the configured limit (431).
    case headTooLarge
    /// The request line or a header field is malformed (400).
    case malformed(String)
    /// Not HTTP/1.0 or HTTP/1.1 (505).
    case unsupportedVersion

    public var status: Int {
        switch self {
        case .headTooLarge: return 431
        case .malformed: return 400
        case .unsupportedVersion: return 505
        }
    }

    /// The error body's code (`Protocol/transport.md`).
    public var code: String {
        switch self {
        case .headTooLarge: return "request_head_too_large"
        case .malformed: return "bad_request"
        case .unsupportedVersion: return "http_version_not_supported"
        }
    }

    public var reason: String {
        switch self {
        case .headTooLarge: return "request head too large"
        case .malformed(let why): return why
        case .unsupportedVersion: return "HTTP version not supported"
        }
    }
}

/// Parses request heads from bytes. Hand-written: the transport owns its sockets, and
/// what it needs is small — a strict parser that never allocates for bytes it rejects.
public enum HTTPRequestParser {
    /// Parses a head at the start of `bytes`, scanning it from the start.
    /// - Returns: the head and the bytes it used (through the blank line), or nil if the
    ///   blank line has not arrived yet.
    /// - Throws: when the head is malformed, or longer than `maxSize` without ending.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxSize: Int) throws(HTTPParseError) -> (HTTPRequestHead, Int)? {
        var scanner = HTTPHeadScanner()
        return try parse(bytes, maxSize: maxSize, scanner: &scanner)
    }

    /// Parses a head at the start of `bytes`, which hold what `scanner` has already seen
    /// followed by new bytes: only the new bytes are scanned for the blank line, so a head
    /// that arrives a byte at a time costs one pass, not one pass per read.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxSize: Int,
                             scanner: inout HTTPHeadScanner) throws(HTTPParseError) -> (HTTPRequestHead, Int)? {
        guard let length = scanner.headLength(in: bytes) else {
            if bytes.count > maxSize { throw .headTooLarge }
            // A request line must start with a token; reject garbage without waiting.
            if let first = bytes.first, !isTokenByte(first) { throw .malformed("bad request line") }
            return nil
        }
        let end = length - 2
        if end > maxSize { throw .headTooLarge }
        var lines: [UnsafeRawBufferPointer] = []
        var start = 0
        var i = 0
        while i + 1 < end {
            if bytes[i] == 0x0D {
                guard bytes[i + 1] == 0x0A else { throw .malformed("bare CR") }
                lines.append(UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
                i += 2
                start = i
            } else if bytes[i] == 0x0A {
                throw .malformed("bare LF")
            } else {
                i += 1
            }
        }
        guard let requestLine = lines.first else { throw .malformed("empty request") }
        var head = try parseRequestLine(requestLine)
        for line in lines.dropFirst() where line.count > 0 {
            head.headers.append(try parseField(line))
        }
        return (head, length)
    }

    /// The index of the blank line's CR that ends the head (the head ends at `index + 2`),
    /// scanning from the start: what every read cost before `HTTPHeadScanner` (kept for
    /// the benchmark that compares the two).
    public static func findEndOfHead(_ b: UnsafeRawBufferPointer) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 0x0D && b[i + 1] == 0x0A && b[i + 2] == 0x0D && b[i + 3] == 0x0A {
            return i + 2
        }
        return nil
    }

    static func parseRequestLine(_ line: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPRequestHead {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("bad request line") }
        let method = parts[0], target = parts[1], version = parts[2]
        guard !method.isEmpty, method.allSatisfy(isTokenByte) else { throw .malformed("bad method") }
        guard let t = target.first, t == UInt8(ascii: "/") || t == UInt8(ascii: "*"),
              target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .malformed("bad request target") }
        let v: Int
        switch String(decoding: version, as: UTF8.self) {
        case "HTTP/1.1": v = 11
        case "HTTP/1.0": v = 10
        default:
            if version.starts(with: "HTTP/".utf8) { throw .unsupportedVersion }
            throw .malformed("bad HTTP version")
        }
        return HTTPRequestHead(method: String(decoding: method, as: UTF8.self),
                               target: String(decoding: target, as: UTF8.self), version: v, headers: [])
    }

    static func parseField(_ line: UnsafeRawBufferPointer) throws(HTTPParseError) -> (name: String, value: String) {
        // RFC 9112 §5.1: no whitespace between name and colon; §5.2: obs-fold is rejected.
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { throw .malformed("bad header field") }
        let name = line[..<colon]
        guard name.allSatisfy(isTokenByte) else { throw .malformed("bad header name") }
        var value = line[(colon + 1)...]
        while let f = value.first, f == 0x20 || f == 0x09 { value = value.dropFirst() }
        while let l = value.last, l == 0x20 || l == 0x09 { value = value.dropLast() }
        guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { throw .malformed("bad header value") }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    @inlinable static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

/// Finds the CRLF CRLF that ends a request head in bytes that arrive in pieces, looking at
/// each byte once: it remembers how far it has scanned and how much of the terminator the
/// scanned bytes end with. One per connection, reset after each request.
public struct HTTPHeadScanner: Sendable, Equatable {
    /// Bytes from the start of the head already looked at.
    public private(set) var scanned = 0
    /// How many bytes of CR LF CR LF the scanned bytes end with (0-3).
    public private(set) var matched = 0
    /// The head's length (through the blank line) once found.
    public private(set) var length: Int?
    /// Bytes looked at since the last reset, for tests and benchmarks.
    public private(set) var bytesExamined = 0

    public init() {}

    /// The head's length if `bytes` (the head so far, from its first byte) complete it.
    /// `bytes` must begin with the bytes passed before.
    public mutating func headLength(in bytes: UnsafeRawBufferPointer) -> Int? {
        if let length { return length }
        var i = scanned
        var m = matched
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            // CR LF CR LF: a mismatch can only restart the match at a CR.
            if c == (m & 1 == 0 ? 0x0D : 0x0A) {
                m += 1
                if m == 4 { break }
            } else {
                m = c == 0x0D ? 1 : 0
            }
        }
        bytesExamined += i - scanned
        scanned = i
        matched = m
        if m == 4 {
            matched = 0
            length = i
        }
        return length
    }

    /// Forgets everything: the next head starts.
    public mutating func reset() { self = HTTPHeadScanner() }
}

extension String {
    /// ASCII case-insensitive comparison, as HTTP field names and tokens need.
    func caseInsensitiveEquals(_ other: String) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in
            x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= UInt8(ascii: "a") && (x | 0x20) <= UInt8(ascii: "z"))
        }
    }
}
