/// Where users live when presence is split across shards: `count` cores, each the only
/// owner of the users placed on it (their sessions, status, calls and contact lists), and
/// this core is number `index`.
///
/// A user's home is a hash of the user ID, the same on every shard and in every process,
/// so any shard, or any node of a cluster, can name a user's home without asking anyone.
/// What a core must know of a user homed elsewhere (how they look to its own users, the
/// state of a pair, a call between the two) it learns from that user's home through
/// `ShardMessage`s, which the gateway carries between shards (see `Effect.forward`).
public struct ShardPlacement: Hashable, Sendable {
    /// The most shards: `SessionID` keeps the issuing shard in 8 bits, and a user's
    /// watcher shards are a 64-bit mask.
    public static let maxCount = 64

    /// How many shards there are.
    public let count: Int
    /// This core's shard.
    public let index: Int

    /// One shard holding everyone: no message ever crosses.
    public static let single = ShardPlacement(count: 1, index: 0)

    /// Shard `index` of `count`; both are clamped into range.
    public init(count: Int, index: Int) {
        self.count = min(max(1, count), Self.maxCount)
        self.index = min(max(0, index), self.count - 1)
    }

    /// The shard that owns `user`.
    public func home(of user: UserID) -> Int {
        count == 1 ? 0 : Int(user.placementHash % UInt64(count))
    }
}

extension UserID {
    /// FNV-1a over the normalized address, then MurmurHash3's 64-bit finalizer: stable
    /// across processes and Swift versions, unlike `hashValue`, which is seeded per process.
    ///
    /// The finalizer matters. The low k bits of FNV-1a depend only on the low k bits of
    /// each byte (xor, then a multiply by an odd number), so `% 2` was the parity of the odd
    /// bytes: addresses that differ only in even bytes all shared one home of two.
    /// `ShardTests.homesSpreadEvenWhenAddressesDifferOnlyInEvenBytes` pins it.
    public var placementHash: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in email.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash &*= 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return hash
    }
}
