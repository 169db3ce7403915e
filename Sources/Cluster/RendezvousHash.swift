import Presence

/// Rendezvous (highest-random-weight) hashing: a user's home is the live node with the
/// highest `weight(user, node)`. Every node computes the same home from the same member
/// list, with no coordination; when a node leaves, only the users it was home to move
/// (each to its own runner-up), and a node joining takes only the users it now wins.
///
/// The weight must be the same on every node and in every version of the binary (nodes
/// of different versions share a cluster during a rolling upgrade), so it is spelled out
/// here rather than taken from `Hasher`, which Swift seeds randomly per process: FNV-1a
/// (64-bit) over the key's UTF-8 bytes, combined with the node id and finished with the
/// MurmurHash3 64-bit finalizer, whose avalanche spreads near-identical inputs (node 1,
/// node 2) over the whole range. Pinned by RendezvousHashTests' known values.
///
/// Pure: no I/O, no state.
public enum RendezvousHash {
    /// The home of `key` among `members`, or `nil` when there is no member. A tie (a
    /// 64-bit collision) goes to the lower id, so the answer never depends on the
    /// members' order.
    public static func home(of key: String, among members: some Sequence<NodeID>) -> NodeID? {
        let k = keyHash(key)
        var best: (node: NodeID, weight: UInt64)?
        for node in members {
            let w = weight(keyHash: k, node: node)
            if let b = best, w < b.weight || (w == b.weight && node >= b.node) { continue }
            best = (node, w)
        }
        return best?.node
    }

    /// FNV-1a, 64-bit, over the key's UTF-8 bytes (`Presence.Rendezvous`, the one definition).
    public static func keyHash(_ key: String) -> UInt64 { Rendezvous.keyHash(key) }

    /// The weight of `node` for a key whose `keyHash` is given.
    public static func weight(keyHash: UInt64, node: NodeID) -> UInt64 {
        Rendezvous.weight(keyHash: keyHash, node: UInt64(node.rawValue))
    }

    /// MurmurHash3's 64-bit finalizer.
    static func mix(_ x: UInt64) -> UInt64 { Rendezvous.mix(x) }
}
