import Cluster
import Testing

@Suite struct RendezvousHashTests {
    static let users = (0..<60_000).map { "user\($0)@example.com" }
    static let nodes = (1...6).map { NodeID(UInt32($0)) }

    @Test func homesAreKnownValuesThatEveryNodeAndVersionComputesAlike() {
        // Pinned: a change here splits a cluster of mixed versions. FNV-1a 64 of "a" is
        // the published test vector af63dc4c8601ec8c.
        #expect(RendezvousHash.keyHash("a") == 0xaf63_dc4c_8601_ec8c)
        #expect(RendezvousHash.keyHash("") == 0xcbf2_9ce4_8422_2325)
        let pinned = ["ann@example.com", "bob@example.com", "carol@example.com", "dave@example.com", "erin@example.com"]
            .map { RendezvousHash.home(of: $0, among: Self.nodes)!.rawValue }
        // Computed by an independent Python rendition of the same definition.
        #expect(pinned == [2, 4, 1, 2, 6])
        let ann = RendezvousHash.keyHash("ann@example.com")
        #expect(RendezvousHash.weight(keyHash: ann, node: NodeID(1)) == 0x4cf7_d38c_ca2a_f995)
        #expect(RendezvousHash.weight(keyHash: ann, node: NodeID(2)) == 0xce25_c765_9409_67c6)
    }

    @Test func theHomeDoesNotDependOnTheMembersOrder() {
        for user in Self.users.prefix(2_000) {
            let home = RendezvousHash.home(of: user, among: Self.nodes)
            #expect(RendezvousHash.home(of: user, among: Self.nodes.reversed()) == home)
            #expect(RendezvousHash.home(of: user, among: Set(Self.nodes)) == home)
        }
        #expect(RendezvousHash.home(of: "ann@example.com", among: [NodeID]()) == nil)
        #expect(RendezvousHash.home(of: "ann@example.com", among: [NodeID(9)]) == NodeID(9))
    }

    @Test func usersSpreadEvenlyOverTheNodes() {
        var counts: [NodeID: Int] = [:]
        for user in Self.users { counts[RendezvousHash.home(of: user, among: Self.nodes)!, default: 0] += 1 }
        let mean = Double(Self.users.count) / Double(Self.nodes.count)
        #expect(counts.count == Self.nodes.count)
        for (node, n) in counts {
            // 10,000 expected each; a binomial's standard deviation here is about 91.
            #expect(abs(Double(n) - mean) < mean * 0.04, "node \(node): \(n) users")
        }
        // Consecutive ids (what INCR hands out) spread as well as any.
        var sequential: [NodeID: Int] = [:]
        let many = (1...20).map { NodeID(UInt32($0)) }
        for user in Self.users { sequential[RendezvousHash.home(of: user, among: many)!, default: 0] += 1 }
        for (node, n) in sequential { #expect(abs(n - 3_000) < 300, "node \(node): \(n) users") }
    }

    @Test func aNodeLeavingMovesOnlyItsOwnUsers() {
        let before = Self.users.map { RendezvousHash.home(of: $0, among: Self.nodes)! }
        let gone = NodeID(3)
        let after = Self.users.map { RendezvousHash.home(of: $0, among: Self.nodes.filter { $0 != gone })! }
        var moved = 0
        for (b, a) in zip(before, after) {
            if b == gone {
                #expect(a != gone)
                moved += 1
            } else {
                #expect(a == b)
            }
        }
        // Positive control: node 3 did have about a sixth of the users, and they moved.
        #expect(moved > 9_000 && moved < 11_000)
        // Spread over the five survivors, not dumped on one.
        var receivers: [NodeID: Int] = [:]
        for (b, a) in zip(before, after) where b == gone { receivers[a, default: 0] += 1 }
        #expect(receivers.count == 5)
        #expect(receivers.values.allSatisfy { $0 > moved / 5 - 300 && $0 < moved / 5 + 300 })
    }

    @Test func aNodeJoiningTakesOnlyTheUsersItWins() {
        let before = Self.users.map { RendezvousHash.home(of: $0, among: Self.nodes)! }
        let newcomer = NodeID(7)
        let after = Self.users.map { RendezvousHash.home(of: $0, among: Self.nodes + [newcomer])! }
        var taken = 0
        for (b, a) in zip(before, after) where a != b {
            #expect(a == newcomer)
            taken += 1
        }
        // About a seventh of the users now live on the new node.
        #expect(taken > 60_000 / 7 - 600 && taken < 60_000 / 7 + 600)
    }
}
