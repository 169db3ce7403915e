import Presence

/// How IDs on the wire name the node that issued them, so that they stay unique across a
/// cluster (Protocol/README.md, "IDs across a cluster").
///
/// A single node (no cluster, `node == nil`) keeps the plain forms: a session is its
/// number (`"281474993487872"`), a resume token `"<session>.<secret>"`, a call a number
/// counting from 1. A cluster node with id *n* (`presence:node-seq` in Redis, never reused;
/// Protocol/cluster.md "Node ids") writes a session as `"n:<session>"` and a resume token as
/// `"n:<session>.<secret>"`, and numbers its calls `n · 2^32 + k`, which keeps a call an
/// exact integer in JSON while node ids stay below 2^21 (`maxNode`). A resume token names
/// its node, and a node answers a token of another node (or of none, if it is in a
/// cluster) `unknown_session`, as for an expired session: the client signs in again.
public struct NodeQualifier: Hashable, Sendable {
    /// The node's id in the cluster; nil for a single node.
    public var node: UInt64?

    /// The largest node id whose calls still fit JSON's exact integers (2^53).
    public static let maxNode: UInt64 = (1 << 21) - 1

    /// A single node: plain IDs.
    public static let single = NodeQualifier(node: nil)

    /// - Precondition: `node` is at most `maxNode`.
    public init(node: UInt64?) {
        if let node { precondition(node <= Self.maxNode, "node id \(node) above \(Self.maxNode)") }
        self.node = node
    }

    /// The session as the wire spells it.
    public func session(_ session: SessionID) -> String {
        guard let node else { return String(session.rawValue) }
        return "\(node):\(session.rawValue)"
    }

    /// The `k`-th call this node assigns (k from 1, below 2^32 when in a cluster).
    public func call(_ k: UInt64) -> CallID {
        guard let node else { return CallID(k) }
        return CallID(node << 32 | (k & 0xFFFF_FFFF))
    }
}
