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
