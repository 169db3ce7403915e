import Foundation
import Presence

/// One arrangement of the presence shards: which shards exist, where each user lives, and
/// this process's threads for its own shards. A single process has one epoch for its whole
/// life. A cluster node builds a new one whenever the live members change
/// (`ClusterNode`), and retires the old one through the restart path, so a shard number, a
/// session ID or a peer's slot in a connection word is only ever read against the epoch
/// that issued it.
///
/// It is also the `ClusterBus` of its threads: a message to one of this process's shards
/// goes to that thread's mailbox, and one to another node's shard goes over the node link,
/// tagged with this epoch (Protocol/cluster.md, "Node frames").
///
/// `@unchecked Sendable`: everything is set in `init` and only read afterwards, but
/// `threads`, set once right after (the threads need the epoch as their bus).
final class PresenceEpoch: ClusterBus, @unchecked Sendable {
    /// Names the arrangement on the wire: FNV-1a over the members and the shard count, the
    /// same on every node that sees the same members; 0 for a single process.
    let tag: UInt64
    /// Counts this process's epochs from 0; its parity marks the connections it signed in
    /// (`ConnectionWord.epochParity`).
    let serial: UInt64
    /// The live nodes, ascending; empty for a single process.
    let members: [UInt64]
    /// This node's id; nil for a single process.
    let node: UInt64?
    /// This node's index in `members` (0 for a single process).
    let slot: Int
    /// Presence shards per node.
    let shardsPerNode: Int
    /// The placement of this process's first shard: `count` is the cluster's, `index` is
    /// `base`.
    let placement: ShardPlacement
    /// How this epoch's IDs name their node.
    let qualifier: NodeQualifier
    private(set) var threads: [PresenceThread] = []
    private weak var cluster: ClusterNode?

    /// A single process's epoch (and a cluster node's until it joined): its IDs name
    /// `qualifier`'s node, if any (`GatewayConfiguration.node`).
    init(shards: Int, qualifier: NodeQualifier = .single) {
        placement = ShardPlacement(count: shards, index: 0)
        tag = 0
        serial = 0
        members = []
        node = qualifier.node
        slot = 0
        shardsPerNode = placement.count
        self.qualifier = qualifier
    }

    /// A cluster node's epoch number `serial` over `members` (which include `node`).
    init(members: [UInt64], node: UInt64, shardsPerNode: Int, serial: UInt64, cluster: ClusterNode) {
        let sorted = members.sorted()
        placement = ShardPlacement(nodes: sorted, shardsPerNode: shardsPerNode, node: node, localIndex: 0)
        self.members = sorted
        self.node = node
        self.serial = serial
        self.shardsPerNode = placement.shardsPerNode
        slot = sorted.firstIndex(of: node) ?? 0
        qualifier = NodeQualifier(node: node)
        tag = Self.tag(members: sorted, shardsPerNode: placement.shardsPerNode)
        self.cluster = cluster
    }

    /// Makes the threads (not started).
    func makeThreads(configuration: PresenceConfiguration, runtime: GatewayRuntime, clock: PresenceClock) {
        threads = (0..<shardsPerNode).map { local in
            let placement = members.isEmpty
                ? ShardPlacement(count: shardsPerNode, index: local)
                : ShardPlacement(nodes: members, shardsPerNode: shardsPerNode, node: node!, localIndex: local)
            return PresenceThread(configuration: configuration, runtime: runtime, clock: clock, placement: placement, epoch: self,
                                  local: local)
        }
    }

    static func tag(members: [UInt64], shardsPerNode: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func eat(_ value: UInt64) {
            for k in 0..<8 {
                h ^= value >> (8 * UInt64(k)) & 0xFF
                h = h &* 0x0000_0100_0000_01b3
            }
        }
        eat(UInt64(shardsPerNode))
        for m in members { eat(m) }
        return h == 0 ? 1 : h
    }

    /// This process's first shard.
    var base: Int { slot * shardsPerNode }

    /// The local thread index of shard `shard`, or nil if another node holds it.
    func local(_ shard: Int) -> Int? {
        let l = shard - base
        return l >= 0 && l < threads.count ? l : nil
    }

    /// The node holding shard `shard`, or nil if the epoch has no such shard.
    func nodeID(ofShard shard: Int) -> UInt64? {
        guard let node else { return nil }
        let s = shard / shardsPerNode
        return members.isEmpty ? (s == 0 ? node : nil) : (s < members.count ? members[s] : nil)
    }

    /// The slot of `node` among the members, for connection words naming a remote edge.
    func slot(of node: UInt64) -> Int? { members.firstIndex(of: node) }

    func carry(_ message: ShardMessage, from source: Int, to shard: Int) {
        if let l = local(shard) {
            // Bounded by the input that caused it, which was admitted: never refused.
            threads[l].post(.command(.fromShard(message), target: nil))
        } else if let destination = nodeID(ofShard: shard) {
            cluster?.send(.shard(epoch: tag, toShard: UInt8(shard % shardsPerNode), message: message), to: destination)
        }
    }
}
