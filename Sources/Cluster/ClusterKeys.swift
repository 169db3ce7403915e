/// The names of everything the cluster keeps in Redis, under one prefix (`presence` by
/// default), so several clusters, or tests, can share a server. Listed in
/// Protocol/cluster.md; change them there too.
public struct ClusterKeys: Hashable, Sendable {
    /// The prefix every key and channel starts with.
    public let prefix: String

    public init(prefix: String = "presence") { self.prefix = prefix }

    /// `<prefix>:node-seq`: the counter node ids come from (`INCR`).
    public var nodeSequence: String { "\(prefix):node-seq" }

    /// `<prefix>:node:<id>`: a node's lease, a string holding its lease token, expiring
    /// when the lease does.
    public func lease(_ node: NodeID) -> String { "\(prefix):node:\(node)" }

    /// `<prefix>:nodes`: the live-node index, a sorted set of node ids scored by lease
    /// expiry (Redis server time, ms since the epoch).
    public var members: String { "\(prefix):nodes" }

    /// `<prefix>:node-events`: the channel where joins and graceful leaves are announced
    /// (`join <id>`, `leave <id>`), a hint to re-read `members` at once.
    public var memberEvents: String { "\(prefix):node-events" }

    /// `<prefix>:inbox:<id>`: the pub/sub channel node `<id>` receives its link batches on
    /// (`NodeLink`, `LinkBatch`).
    public func inbox(_ node: NodeID) -> String { "\(prefix):inbox:\(node)" }
}
