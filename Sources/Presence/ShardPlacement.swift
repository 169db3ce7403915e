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

    /// How many shards there are (in a cluster, on all nodes together).
    public let count: Int
    /// This core's shard.
    public let index: Int
    /// In a cluster of several processes, the live nodes' ids in ascending order, each
    /// running `shardsPerNode` shards: shard `k` is local shard `k % shardsPerNode` of node
    /// `nodes[k / shardsPerNode]`. Empty for one process.
    public let nodes: [UInt64]
    /// Shards per node (`count` for one process).
    public let shardsPerNode: Int

    /// One shard holding everyone: no message ever crosses.
    public static let single = ShardPlacement(count: 1, index: 0)

    /// Shard `index` of `count`; both are clamped into range.
    public init(count: Int, index: Int) {
        self.count = min(max(1, count), Self.maxCount)
        self.index = min(max(0, index), self.count - 1)
        nodes = []
        shardsPerNode = self.count
    }

    /// Local shard `localIndex` of node `node` in a cluster of `nodes` (the live members),
    /// each running `shardsPerNode` shards.
    /// - Precondition: `node` is one of `nodes`, and `nodes.count × shardsPerNode` is at
    ///   most `maxCount`.
    public init(nodes: [UInt64], shardsPerNode: Int, node: UInt64, localIndex: Int) {
        let sorted = nodes.sorted()
        let perNode = min(max(1, shardsPerNode), Self.maxCount)
        precondition(sorted.count * perNode <= Self.maxCount, "\(sorted.count) nodes × \(perNode) shards exceed \(Self.maxCount)")
        guard let slot = sorted.firstIndex(of: node) else { preconditionFailure("node \(node) is not a member") }
        self.nodes = sorted.count > 1 ? sorted : []
        self.shardsPerNode = perNode
        count = sorted.count * perNode
        index = slot * perNode + min(max(0, localIndex), perNode - 1)
    }

    /// The shard that owns `user`: in a cluster, the local shard (as one process with
    /// `shardsPerNode` shards would pick it) of the node that rendezvous hashing picks.
    public func home(of user: UserID) -> Int {
        guard !nodes.isEmpty else { return count == 1 ? 0 : Int(user.placementHash % UInt64(count)) }
        let local = shardsPerNode == 1 ? 0 : Int(user.placementHash % UInt64(shardsPerNode))
        return Rendezvous.slot(ofKey: user.email, among: nodes) * shardsPerNode + local
    }

    /// The node slot (index into `nodes`) of shard `shard`; 0 for one process.
    public func slot(ofShard shard: Int) -> Int { shard / shardsPerNode }
}

/// Rendezvous (highest-random-weight) hashing: a key's node is the member with the highest
/// `weight(key, node)`. Every node computes the same answer from the same members, with no
/// coordination; when a node leaves, only its keys move (each to its runner-up). The weight
/// is spelled out (FNV-1a 64 over the key's UTF-8, xor the node id mixed, MurmurHash3's
/// finalizer) because it must be equal in every process and version (Protocol/cluster.md,
/// "Homes: rendezvous hashing"); `Cluster.RendezvousHash` answers with this same function.
public enum Rendezvous {
    /// The index in `members` of the key's node (a tie to the lower id); 0 for no members.
    public static func slot(ofKey key: String, among members: [UInt64]) -> Int {
        let k = keyHash(key)
        var best = 0, bestWeight: UInt64 = 0
        for (i, node) in members.enumerated() {
            let w = weight(keyHash: k, node: node)
            if i == 0 || w > bestWeight || (w == bestWeight && node < members[best]) {
                best = i
                bestWeight = w
            }
        }
        return best
    }

    /// FNV-1a, 64-bit, over the key's UTF-8 bytes.
    public static func keyHash(_ key: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// The weight of `node` for a key whose `keyHash` is given.
    public static func weight(keyHash: UInt64, node: UInt64) -> UInt64 {
        mix(keyHash ^ mix(node &* 0x9e37_79b9_7f4a_7c15))
    }

    /// MurmurHash3's 64-bit finalizer.
    public static func mix(_ x: UInt64) -> UInt64 {
        var k = x
        k ^= k >> 33
        k = k &* 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k = k &* 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
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
