import Cluster
import Presence

/// Where a user lives in a cluster: the home node that rendezvous hashing picks over the
/// live members (`RendezvousHash`), then the local shard that the node's own
/// `ShardPlacement` picks for its shard count (Protocol/cluster.md, "Cross-node routing").
///
/// Two steps rather than one hash over every (node, shard) pair, so that the in-process
/// answer stays the answer inside a node: a cluster of one node places every user exactly
/// where a single process with the same `--presence-shards` does, and a node's shards need
/// nothing from the cluster to agree among themselves. When a node leaves, only its users
/// move (each to its own runner-up node); no user of a surviving node changes shard.
///
/// Pure: built from a membership snapshot, it answers from that snapshot alone.
public struct ClusterPlacement: Sendable, Equatable {
    /// A live node and how many presence shards it runs.
    public struct Member: Sendable, Hashable {
        public var node: NodeID
        public var shards: Int

        public init(node: NodeID, shards: Int) {
            self.node = node
            self.shards = shards
        }
    }

    /// The live members, by node id.
    public let members: [NodeID: Int]

    /// - Parameter members: the live nodes and their shard counts; a node listed twice
    ///   keeps its last count, and counts are clamped as `ShardPlacement` clamps them.
    public init(members: some Sequence<Member>) {
        var table: [NodeID: Int] = [:]
        for member in members {
            table[member.node] = ShardPlacement(count: member.shards, index: 0).count
        }
        self.members = table
    }

    /// The shard of the cluster that owns `user`, or nil when no node is live.
    public func home(of user: UserID) -> ShardAddress? {
        guard let node = RendezvousHash.home(of: user.email, among: members.keys),
              let shards = members[node] else { return nil }
        return ShardAddress(node: node, shard: UInt8(ShardPlacement(count: shards, index: 0).home(of: user)))
    }
}
