/// A seeded contact graph in which every user has exactly `degree` accepted contacts, and
/// users 2k and 2k+1 are always contacts of each other (the chat scenario's pairs).
///
/// Construction: the pairs (2k, 2k+1) are put on a ring in a seeded random order, pair
/// members side by side, and every ring position is linked to the next `degree / 2`
/// positions. That is a circulant graph under a random relabelling: exactly regular (so a
/// change fans out to the same number of contacts for everyone), the pair edge is the
/// distance-1 link, and no edge repeats while `degree < userCount`. Unlike a uniformly
/// random regular graph it is clustered (neighbours share neighbours); fan-out cost does
/// not depend on that.
struct ContactGraph {
    let userCount: Int
    let degree: Int
    /// Sorted contact indices of each user.
    private(set) var contacts: [[Int32]]

    /// - Precondition: `userCount` even and ≥ 2, `degree` even and `degree < userCount`
    ///   (checked by the command's validation).
    init(userCount: Int, degree: Int, seed: UInt64) {
        self.userCount = userCount
        self.degree = degree
        var generator = SplitMix64(seed: seed)
        var pairs = Array(0..<(userCount / 2))
        pairs.shuffle(using: &generator)
        let ring = pairs.flatMap { [2 * $0, 2 * $0 + 1] }
        var lists = Array(repeating: [Int32](), count: userCount)
        for position in 0..<userCount {
            for distance in stride(from: 1, through: degree / 2, by: 1) {
                let a = ring[position], b = ring[(position + distance) % userCount]
                lists[a].append(Int32(b))
                lists[b].append(Int32(a))
            }
        }
        for i in lists.indices { lists[i].sort() }
        contacts = lists
    }

    /// Each undirected edge once, smaller index first.
    func forEachEdge(_ body: (Int, Int) throws -> Void) rethrows {
        for a in 0..<userCount {
            for b in contacts[a] where Int(b) > a { try body(a, Int(b)) }
        }
    }
}

/// SplitMix64, the load client's generator too: small, fast, and the same numbers from the
/// same seed on every platform (Swift's default generator is neither seedable nor stable).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
