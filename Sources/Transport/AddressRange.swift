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
