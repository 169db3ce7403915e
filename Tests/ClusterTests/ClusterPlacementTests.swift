import Cluster
import ClusterRouting
import Presence
import Testing

struct ClusterPlacementTests {
    static let users = (0..<6_000).map { UserID(email: "user\($0)@load.test")! }

    /// One node places every user where a single process with its shard count does.
    @Test func oneNodePlacesEveryUserAsASingleProcessDoes() {
        for shards in [1, 2, 3, 8] {
            let cluster = ClusterPlacement(members: [.init(node: NodeID(7), shards: shards)])
            let local = ShardPlacement(count: shards, index: 0)
            for user in Self.users.prefix(1_000) {
                #expect(cluster.home(of: user) == ShardAddress(node: NodeID(7), shard: UInt8(local.home(of: user))))
            }
        }
    }

    /// The node is rendezvous hashing's choice, the shard the node's own placement's.
    @Test func theHomeNodeIsTheRendezvousChoiceAndTheShardTheNodesOwn() {
        let members: [ClusterPlacement.Member] = [.init(node: NodeID(1), shards: 2), .init(node: NodeID(2), shards: 4),
                                                  .init(node: NodeID(5), shards: 1)]
        let cluster = ClusterPlacement(members: members)
        for user in Self.users.prefix(1_000) {
            let home = cluster.home(of: user)!
            #expect(home.node == RendezvousHash.home(of: user.email, among: members.map(\.node)))
            let shards = members.first { $0.node == home.node }!.shards
            #expect(Int(home.shard) == ShardPlacement(count: shards, index: 0).home(of: user))
        }
    }

    /// A node leaving moves only its own users, and spreads them over the survivors; no
    /// user of a surviving node changes node or shard. A positive control: some users did
    /// live on the node that left.
    @Test func aNodeLeavingMovesOnlyItsUsers() {
        let all: [ClusterPlacement.Member] = (1...6).map { .init(node: NodeID(UInt32($0)), shards: $0 % 3 + 1) }
        let before = ClusterPlacement(members: all)
        let after = ClusterPlacement(members: all.filter { $0.node != NodeID(4) })
        var moved = 0
        var receivers: Set<NodeID> = []
        for user in Self.users {
            let old = before.home(of: user)!, new = after.home(of: user)!
            if old.node == NodeID(4) {
                moved += 1
                receivers.insert(new.node)
            } else {
                #expect(new == old)
            }
        }
        #expect(moved > 600 && moved < 1_400)  // about a sixth of 6,000
        #expect(receivers.count == 5)
    }

    /// No live node, no home.
    @Test func anEmptyClusterHasNoHomes() {
        #expect(ClusterPlacement(members: []).home(of: Self.users[0]) == nil)
    }
}
