import Cluster
import Testing

@Suite struct MembershipViewTests {
    let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3)

    @Test func readsBecomeJoinsAndLeaves() {
        var view = MembershipView(graceMilliseconds: 6_000)
        #expect(view.apply(read: [n2, n1], now: 0) == MembershipChange(members: [n1, n2], joined: [n1, n2], left: []))
        #expect(view.apply(read: [n1, n2], now: 1_000) == nil)
        #expect(view.apply(read: [n1, n3], now: 2_000) == MembershipChange(members: [n1, n3], joined: [n3], left: [n2]))
        #expect(view.apply(read: [], now: 3_000) == MembershipChange(members: [], joined: [], left: [n1, n3]))
    }

    @Test func afterAReconnectAbsencesAreDisbelievedUntilTheGraceEnds() {
        var view = MembershipView(graceMilliseconds: 6_000)
        _ = view.apply(read: [n1, n2, n3], now: 0)
        view.reconnected(now: 10_000)
        // Redis came back empty: nobody has re-asserted yet. No deaths.
        #expect(view.apply(read: [], now: 10_001) == nil)
        #expect(view.members == [n1, n2, n3])
        // Two re-assert; a join is believed at once even in the grace.
        #expect(view.apply(read: [n1, n2], now: 11_000) == nil)
        #expect(view.isInGrace(now: 15_999))
        #expect(view.apply(read: [n1, n2], now: 15_999) == nil)
        // Once it is over, the one that never came back has left.
        #expect(!view.isInGrace(now: 16_000))
        #expect(view.apply(read: [n1, n2], now: 16_000) == MembershipChange(members: [n1, n2], joined: [], left: [n3]))
    }

    @Test func joinsAreBelievedDuringTheGrace() {
        var view = MembershipView(graceMilliseconds: 6_000)
        _ = view.apply(read: [n1], now: 0)
        view.reconnected(now: 100)
        #expect(view.apply(read: [n3], now: 200) == MembershipChange(members: [n1, n3], joined: [n3], left: []))
    }

    @Test func theFirstConnectionHasNoGrace() {
        var view = MembershipView(graceMilliseconds: 6_000)
        view.reconnected(now: 0)
        #expect(!view.isInGrace(now: 1))
        _ = view.apply(read: [n1, n2], now: 1)
        #expect(view.apply(read: [n1], now: 2) == MembershipChange(members: [n1], joined: [], left: [n2]))
    }
}
