import Glibc

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
