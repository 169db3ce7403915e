/// A change in the set of live nodes.
public struct MembershipChange: Equatable, Sendable {
    /// The live nodes now, ascending.
    public var members: [NodeID]
    /// Nodes that appeared since the last change, ascending.
    public var joined: [NodeID]
    /// Nodes that left (gracefully, or their lease lapsed: they died), ascending.
    public var left: [NodeID]

    public init(members: [NodeID], joined: [NodeID], left: [NodeID]) {
        self.members = members
        self.joined = joined
        self.left = left
    }
}

/// One node's view of the live set, built from successive reads of the live-node index.
/// Pure: reads and times in, changes out.
///
/// After the link to Redis comes back, absences are not believed for a grace period
/// (`reconnected(now:)`): if Redis restarted empty, every node is absent until it
/// re-asserts its lease (within one reconnect backoff step), and believing the first
/// read would declare the whole cluster dead and move every user's home. A node truly
/// gone meanwhile is declared left at the first read after the grace.
public struct MembershipView: Sendable {
    /// The live nodes, ascending.
    public private(set) var members: [NodeID] = []
    /// How long absences are disbelieved after a reconnect.
    public let graceMilliseconds: Int64
    private var graceUntil: Int64 = .min

    public init(graceMilliseconds: Int64) { self.graceMilliseconds = graceMilliseconds }

    /// The link to Redis (re)connected at `now` (monotonic ms).
    public mutating func reconnected(now: Int64) {
        if !members.isEmpty { graceUntil = now + graceMilliseconds }
    }

    /// Whether absences read at `now` are disbelieved.
    public func isInGrace(now: Int64) -> Bool { now < graceUntil }

    /// Applies one read of the index (the live ids, any order) made at `now`.
    /// - Returns: the change, or `nil` when nothing changed.
    public mutating func apply(read: [NodeID], now: Int64) -> MembershipChange? {
        let current = Set(members)
        let seen = Set(read)
        let joined = seen.subtracting(current).sorted()
        let left = isInGrace(now: now) ? [] : current.subtracting(seen).sorted()
        guard !joined.isEmpty || !left.isEmpty else { return nil }
        members = current.union(seen).subtracting(left).sorted()
        return MembershipChange(members: members, joined: joined, left: left)
    }
}
