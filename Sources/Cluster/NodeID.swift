/// A node's number in the cluster, issued by Redis (`INCR <prefix>:node-seq`) when the
/// node joins, and held by the node's lease for as long as it lives.
///
/// Short on purpose: it is to prefix the IDs a node issues (sessions, calls, messages
/// taken in flight), so they are unique across the cluster without coordination per ID.
/// See Protocol/cluster.md, "Node ids".
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number Redis issued (1, 2, ...).
    public let rawValue: UInt32

    public init(_ rawValue: UInt32) { self.rawValue = rawValue }

    /// Parses the decimal form used in keys and messages; `nil` for anything else.
    public init?(_ text: some StringProtocol) {
        guard let n = UInt32(text), n > 0 else { return nil }
        rawValue = n
    }

    public static func < (lhs: NodeID, rhs: NodeID) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { String(rawValue) }
}
