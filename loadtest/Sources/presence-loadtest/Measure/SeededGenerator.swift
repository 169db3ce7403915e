/// SplitMix64: a tiny, fast, seedable generator, so the same `--seed` gives the same
/// workload (payload bytes, handshake keys, mask keys) on every run.
///
/// Mask keys from it are predictable, which RFC 6455 §5.3 forbids for browsers (proxy cache
/// poisoning); a load generator on loopback has no such proxy, and speed matters more.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
