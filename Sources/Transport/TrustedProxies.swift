import Glibc

/// The reverse proxies (nginx, a load balancer) whose `X-Forwarded-For` header names the
/// client, and the rule that finds the client's address in it.
///
/// Behind a proxy every TCP peer is the proxy, so per-address limits (sign-up, sign-in,
/// password reset, connections) would lump all clients together. When the peer is one of
/// these proxies, the client is the right-most `X-Forwarded-For` entry that is not itself
/// a trusted proxy: each proxy appends the address it received the connection from, so
/// the entries right of the client were written by proxies we trust, and anything left of
/// it was written by the client and is never looked at (a client cannot choose its own
/// address by sending the header). A peer that is not a trusted proxy is the client, and
/// its header is ignored. Pure: no syscalls, so every rule is unit-tested.
public struct TrustedProxies: Sendable, Equatable {
    /// The address ranges trusted, in the order given.
    public var ranges: [AddressRange]

    public init(_ ranges: [AddressRange] = []) {
        self.ranges = ranges
    }

    /// Parses each text as an address or a CIDR range; nil when one is neither.
    public init?(parsing texts: [String]) {
        var ranges: [AddressRange] = []
        for text in texts {
            guard let range = AddressRange(parsing: text) else { return nil }
            ranges.append(range)
        }
        self.init(ranges)
    }

    public var isEmpty: Bool { ranges.isEmpty }

    public func contains(_ address: IPAddress) -> Bool {
        ranges.contains { $0.contains(address) }
    }

    /// Where a request's client address came from.
    public enum Resolution: Sendable, Equatable {
        /// The peer itself: no trusted proxy, or a trusted one that sent no header.
        case peer
        /// The client named by a trusted proxy, in canonical text.
        case forwarded(String)
        /// A trusted proxy sent a header whose trusted tail does not parse: the peer's
        /// address is used, and the transport counts it (`LoopTraffic.malformedForwardedFor`).
        case malformed
    }

    /// The client behind `peer`.
    /// - Parameters:
    ///   - peer: the TCP peer's address as the transport writes it ("127.0.0.1", "::1").
    ///   - forwardedFor: every `X-Forwarded-For` field value in the order received; several
    ///     fields count as one comma-separated list (RFC 9110 §5.3).
    public func resolve(peer: String, forwardedFor: [String]) -> Resolution {
        guard !ranges.isEmpty, !forwardedFor.isEmpty, let peerAddress = IPAddress(parsing: peer), contains(peerAddress) else {
            return .peer
        }
        var leftmostTrusted: IPAddress?
        for field in forwardedFor.reversed() {
            for entry in field.split(separator: ",", omittingEmptySubsequences: false).reversed() {
                guard let address = IPAddress(parsing: Self.trimmed(entry)) else { return .malformed }
                if !contains(address) { return .forwarded(address.description) }
                leftmostTrusted = address
            }
        }
        // Every entry is a trusted proxy (a request made by a proxy host itself): the
        // left-most is the furthest hop known, as nginx's real_ip_recursive decides.
        return leftmostTrusted.map { .forwarded($0.description) } ?? .malformed
    }

    /// The client's address: the forwarded one, or the peer's.
    public func clientAddress(peer: String, forwardedFor: [String]) -> String {
        if case .forwarded(let address) = resolve(peer: peer, forwardedFor: forwardedFor) { return address }
        return peer
    }

    /// Optional whitespace around a list element (RFC 9110 §5.6.1).
    static func trimmed(_ text: Substring) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isSpace($0) }), let last = text.lastIndex(where: { !isSpace($0) }) else { return "" }
        return text[first...last]
    }
}

/// An IPv4 or IPv6 address as 128 bits; IPv4 as its IPv4-mapped IPv6 form (`::ffff:a.b.c.d`),
/// so an IPv4 client reaching a dual-stack socket and the same client over IPv4 are one address.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    static let mappedPrefix: UInt64 = 0x0000_FFFF_0000_0000

    public var isIPv4: Bool { high == 0 && low & 0xFFFF_FFFF_0000_0000 == Self.mappedPrefix }

    /// An IPv4 or IPv6 literal (no brackets, port or zone); nil for anything else, including
    /// IPv4 with leading zeros or fewer than four parts, which `inet_pton` refuses.
    public init?(parsing text: some StringProtocol) {
        guard !text.isEmpty, text.utf8.count <= Int(INET6_ADDRSTRLEN) else { return nil }
        let text = String(text)
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.init(high: 0, low: Self.mappedPrefix | UInt64(UInt32(bigEndian: v4.s_addr)))
            return
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        self.init(high: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
    }

    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Canonical text: dotted IPv4 for IPv4 (mapped or not), RFC 5952 IPv6 otherwise, so
    /// `::0001` and `::1` are one key of a rate limiter.
    public var description: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        if isIPv4 {
            var v4 = in_addr(s_addr: UInt32(truncatingIfNeeded: low).bigEndian)
            inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count))
        } else {
            var v6 = in6_addr()
            withUnsafeMutableBytes(of: &v6) { raw in
                for i in 0..<8 {
                    raw[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * i))
                    raw[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * i))
                }
            }
            inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count))
        }
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// An address or a CIDR range of addresses: `127.0.0.1`, `10.0.0.0/8`, `::1`, `fd00::/8`.
public struct AddressRange: Sendable, Hashable, CustomStringConvertible {
    public let network: IPAddress
    /// Leading bits that must match, counted over the 128-bit form (an IPv4 `/8` is 104).
    public let prefixLength: Int

    /// Nil for anything that is not an address, or a range whose length is out of bounds
    /// (IPv4 0...32, IPv6 0...128) or whose host bits are not zero (`10.0.0.1/8` is more
    /// likely a typo than a wish to trust all of 10/8).
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parsing: parts[0]) else { return nil }
        // Written as IPv6 (even `::ffff:a.b.c.d`), the length counts IPv6 bits.
        let maxLength = parts[0].contains(":") ? 128 : 32
        var length = maxLength
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), parts[1].count <= 3,
                  let n = Int(parts[1]), n <= maxLength else { return nil }
            length = n
        }
        let bits = length + (128 - maxLength)
        guard Self.masked(address, bits) == address else { return nil }
        network = address
        prefixLength = bits
    }

    public func contains(_ address: IPAddress) -> Bool {
        Self.masked(address, prefixLength) == network
    }

    public var description: String {
        network.isIPv4 ? "\(network)/\(prefixLength - 96)" : "\(network)/\(prefixLength)"
    }

    static func masked(_ address: IPAddress, _ bits: Int) -> IPAddress {
        func mask(_ n: Int) -> UInt64 { n <= 0 ? 0 : n >= 64 ? .max : ~(UInt64.max >> UInt64(n)) }
        return IPAddress(high: address.high & mask(bits), low: address.low & mask(bits - 64))
    }
}
