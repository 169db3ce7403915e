import Glibc

/// Source addresses spread over 127.0.0.0/8.
///
/// Each (source address, server address, server port) triple has only the ephemeral port
/// range (`/proc/sys/net/ipv4/ip_local_port_range`, about 28,000 ports) to draw from, so
/// connection `n` binds to 127.0.0.(1 + n / perAddress) and beyond (127.0.1.x, ...) before
/// connecting. `IP_BIND_ADDRESS_NO_PORT` lets the kernel pick the port at connect time, per
/// destination, instead of reserving one at bind.
struct SourceAddressPool {
    let perAddress: Int
    /// Added to every address index after EADDRNOTAVAIL: ports on the lower ones ran out.
    var shift = 0

    init(perAddress: Int) { self.perAddress = max(1, perAddress) }

    /// The ephemeral ports one source address offers, minus a margin for other programs.
    static func defaultPerAddress() -> Int {
        guard let text = ProcessStats.readSmallFile("/proc/sys/net/ipv4/ip_local_port_range") else { return 20_000 }
        let bounds = text.split { $0 == " " || $0 == "\t" || $0 == "\n" }.compactMap { Int($0) }
        guard bounds.count == 2, bounds[1] > bounds[0] else { return 20_000 }
        return max(1000, bounds[1] - bounds[0] + 1 - 2000)
    }

    /// The source address of connection `globalIndex`, in network byte order.
    func address(for globalIndex: Int) -> in_addr {
        // 127.0.0.1 + k, skipping host parts 0 and 255 so no address is a network or
        // broadcast address of some /24.
        let k = globalIndex / perAddress + shift
        let host = UInt32(k / 254) * 256 + UInt32(k % 254) + 1
        return in_addr(s_addr: (UInt32(127) << 24 | (host & 0x00FF_FFFF)).bigEndian)
    }
}
