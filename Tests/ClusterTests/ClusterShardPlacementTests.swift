import Cluster
import Presence
import Testing

/// Where a cluster places its users (`ShardPlacement(nodes:shardsPerNode:node:localIndex:)`,
/// Protocol/cluster.md "Homes"): the node is rendezvous hashing's choice over the live
/// members, the shard the one a single process with the node's shard count would pick.
struct ClusterShardPlacementTests {
    static let users = (0..<6_000).map { UserID(email: "user\($0)@load.test")! }

    /// One node places every user where a single process with its shard count does.
    @Test func oneNodePlacesEveryUserAsASingleProcessDoes() {
        for shards in [1, 2, 3, 8] {
            let cluster = ShardPlacement(nodes: [7], shardsPerNode: shards, node: 7, localIndex: 0)
            let local = ShardPlacement(count: shards, index: 0)
            #expect(cluster.count == shards)
            for user in Self.users.prefix(1_000) { #expect(cluster.home(of: user) == local.home(of: user)) }
        }
    }

    /// The node is `RendezvousHash`'s choice (the function Redis-side tooling and the
    /// pinned values in RendezvousHashTests use), and the shard the node's own.
    @Test func theHomeNodeIsTheRendezvousChoiceAndTheShardTheNodesOwn() {
        let members: [UInt64] = [1, 2, 5]
        let placement = ShardPlacement(nodes: members, shardsPerNode: 2, node: 2, localIndex: 1)
        #expect(placement.count == 6 && placement.index == 3)
        for user in Self.users.prefix(2_000) {
            let home = placement.home(of: user)
            let node = RendezvousHash.home(of: user.email, among: members.map { NodeID(UInt32($0)) })!
            #expect(UInt64(node.rawValue) == members[placement.slot(ofShard: home)])
            #expect(home % 2 == ShardPlacement(count: 2, index: 0).home(of: user))
        }
    }

    /// A node leaving moves only its own users, spread over the survivors; every other user
    /// keeps its node and local shard. A positive control: some users did live there.
    @Test func aNodeLeavingMovesOnlyItsUsers() {
        let all: [UInt64] = [1, 2, 3, 4, 5, 6]
        let before = ShardPlacement(nodes: all, shardsPerNode: 2, node: 1, localIndex: 0)
        let survivors = all.filter { $0 != 4 }
        let after = ShardPlacement(nodes: survivors, shardsPerNode: 2, node: 1, localIndex: 0)
        func place(_ p: ShardPlacement, _ nodes: [UInt64], _ user: UserID) -> (UInt64, Int) {
            let shard = p.home(of: user)
            return (nodes[p.slot(ofShard: shard)], shard % 2)
        }
        var moved = 0
        var receivers = Set<UInt64>()
        for user in Self.users {
            let old = place(before, all, user), new = place(after, survivors, user)
            if old.0 == 4 {
                moved += 1
                receivers.insert(new.0)
                #expect(new.1 == old.1)
            } else {
                #expect(new == old)
            }
        }
        #expect(moved > 600 && moved < 1_400)  // about a sixth of 6,000
        #expect(receivers.count == 5)
    }

    /// 60,000 users on 6 nodes: every node holds within 4% of the mean.
    @Test func homesSpreadEvenlyOverSixNodes() {
        let nodes: [UInt64] = [3, 8, 9, 12, 40, 41]
        let p = ShardPlacement(nodes: nodes, shardsPerNode: 1, node: 3, localIndex: 0)
        var counts = [Int](repeating: 0, count: nodes.count)
        for k in 0..<60_000 { counts[p.slot(ofShard: p.home(of: UserID(email: "user\(k)@load.test")!))] += 1 }
        for c in counts { #expect(abs(c - 10_000) <= 400, "\(counts)") }
    }
}
