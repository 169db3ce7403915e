import Cluster
import Foundation
import Testing

/// One node of a test cluster: its own loop, its two connections and its membership view.
final class TestNode: Sendable {
    let link: LinkHarness
    let membership: ClusterMembership
    let changes = Recorder<MembershipChange>()
    let leaseEvents = Recorder<NodeLease.Event>()
    private let joined = Recorder<Result<NodeLease, ClusterError>>()

    init(_ server: RedisServer, leaseMilliseconds: Int64, pollIntervalMilliseconds: Int64 = 1_000) throws {
        let link = try LinkHarness()
        self.link = link
        let commands = link.connect(server.endpoint, start: false)
        let events = link.connect(server.endpoint, start: false)
        membership = link.sync {
            ClusterMembership(commands: commands, events: events, keys: ClusterKeys(), leaseMilliseconds: leaseMilliseconds,
                              pollIntervalMilliseconds: pollIntervalMilliseconds)
        }
        link.sync { [membership, changes] in
            membership.onChange = { changes.append($0) }
            membership.start()
        }
    }

    /// Joins once connected; returns this node's id.
    func join() throws -> NodeID {
        #expect(waitUntil(timeout: 5) { link.sync { self.membership.commands.isConnected } })
        link.sync { [membership, joined, leaseEvents] in
            membership.join { result in
                if case .success(let lease) = result { lease.onEvent = { leaseEvents.append($0) } }
                joined.append(result)
            }
        }
        #expect(waitUntil(timeout: 5) { joined.count == 1 })
        return try #require(try joined.all.first?.get()).node
    }

    var lease: NodeLease? { link.sync { self.membership.lease } }
    var members: [NodeID] { link.sync { self.membership.members } }
    var left: [NodeID] { changes.all.flatMap(\.left) }

    func shutdown() {
        link.shutdown([membership.commands, membership.events])
    }
}

@Suite("Node leases and membership over a real redis-server",
       .enabled(if: RedisServer.shouldRun, "redis-server is not installed (apt-get install redis-server); PRESENCE_TEST_REQUIRE_REDIS=1 fails instead of skipping"))
struct MembershipTests {
    @Test func aNodeThatStopsRenewingIsSeenLeavingWithinLeasePlusOnePoll() throws {
        let server = try RedisServer()
        let a = try TestNode(server, leaseMilliseconds: 2_000)
        let b = try TestNode(server, leaseMilliseconds: 2_000)
        let probe = try LinkHarness()
        let redis = probe.connect(server.endpoint)
        defer {
            a.shutdown()
            b.shutdown()
            probe.shutdown([redis])
        }
        let idA = try a.join()
        let idB = try b.join()
        #expect(idA != idB)
        // Positive control: both see both.
        #expect(waitUntil(timeout: 3) { a.members == [idA, idB].sorted() && b.members == [idA, idB].sorted() })
        let leaseKey = ClusterKeys().lease(idB)
        guard case .success(.integer(let ttl)) = probe.command(redis, ["PTTL", leaseKey]) else {
            Issue.record("no TTL on \(leaseKey)")
            return
        }
        #expect(ttl > 0 && ttl <= 2_000)
        // Renewal keeps it alive past one whole lease.
        usleep(2_600_000)
        #expect(probe.command(redis, ["EXISTS", leaseKey]) == .success(.integer(1)))
        #expect(try #require(b.lease).renewals >= 3)
        #expect(a.left.isEmpty)

        // B dies (stops renewing, as a SIGKILLed node would).
        let stopped = Date()
        b.link.sync { b.membership.lease?.stopRenewing() }
        #expect(waitUntil(timeout: 6) { a.left.contains(idB) })
        let seenAfter = Date().timeIntervalSince(stopped)
        // Within lease (2 s) + one poll (1 s), plus slack for a machine busy with the rest
        // of the suite; and not at once, but when the lease ran out (its last renewal was
        // about 667 ms or less before the stop; more if the busy machine delayed it).
        #expect(seenAfter < 4.0, "seen gone after \(seenAfter) s")
        #expect(seenAfter > 0.8, "seen gone after \(seenAfter) s")
        #expect(a.members == [idA])
        #expect(probe.command(redis, ["EXISTS", leaseKey]) == .success(.integer(0)))
        #expect(probe.command(redis, ["ZRANGE", ClusterKeys().members, "0", "-1"]) == .success(.array([.bulk(Array(idA.description.utf8))])))
        // A itself never lost its lease.
        #expect(!a.leaseEvents.all.contains { if case .lost = $0 { true } else { false } })
    }

    @Test func joinsAndGracefulLeavesAreSeenAtOnceThroughTheAnnouncements() throws {
        let server = try RedisServer()
        // Polls 20 s apart: only the announcements can explain a view that follows within 1 s.
        let a = try TestNode(server, leaseMilliseconds: 5_000, pollIntervalMilliseconds: 20_000)
        let b = try TestNode(server, leaseMilliseconds: 5_000, pollIntervalMilliseconds: 20_000)
        defer {
            a.shutdown()
            b.shutdown()
        }
        let idA = try a.join()
        #expect(waitUntil(timeout: 1) { a.members == [idA] })
        let idB = try b.join()
        #expect(waitUntil(timeout: 1) { a.members == [idA, idB] })
        #expect(a.changes.all.last?.joined == [idB])

        let released = Locked<Result<Void, ClusterError>?>(nil)
        b.link.sync { b.membership.lease?.release { r in released.withLock { $0 = r } } }
        #expect(waitUntil(timeout: 1) { a.left == [idB] })
        #expect(a.members == [idA])
        // B's reply may come after A heard the announcement the script published.
        #expect(waitUntil(timeout: 2) { released.withLock { $0 != nil } })
        #expect(released.withLock { $0.map { (try? $0.get()) != nil } } == true)
    }

    @Test func aLeaseOverwrittenOrDeletedIsReportedLostAndATakenIDIsRefused() throws {
        let server = try RedisServer()
        let link = try LinkHarness()
        let redis = link.connect(server.endpoint)
        defer { link.shutdown([redis]) }
        #expect(waitUntil(timeout: 5) { link.sync { redis.isConnected } })
        let keys = ClusterKeys(prefix: "t")
        let outcomes = Recorder<NodeLease.Outcome>()
        let events = Recorder<(UInt32, NodeLease.Event)>()
        let leases = link.sync {
            [7, 8].map { id in
                let lease = NodeLease(connection: redis, keys: keys, node: NodeID(UInt32(id)), leaseMilliseconds: 3_000, renewIntervalMilliseconds: 200)
                lease.onEvent = { events.append((UInt32(id), $0)) }
                lease.start { outcomes.append($0) }
                return lease
            }
        }
        #expect(waitUntil(timeout: 3) { outcomes.count == 2 })
        #expect(outcomes.all == [.held, .held])
        // Another lease for a held id (another token) is refused.
        let rival = link.sync { NodeLease(connection: redis, keys: keys, node: NodeID(7), leaseMilliseconds: 3_000) }
        link.sync { rival.start { outcomes.append($0) } }
        #expect(waitUntil(timeout: 3) { outcomes.count == 3 })
        #expect(outcomes.all.last == .takenByAnother)
        // The sequence was raised to the highest id held.
        #expect(link.command(redis, ["GET", keys.nodeSequence]) == .success(.bulk(Array("8".utf8))))
        // Renewals happen (positive control for "renewing stopped" below).
        #expect(waitUntil(timeout: 3) { link.sync { leases[0].renewals >= 2 && leases[1].renewals >= 2 } })

        #expect(link.command(redis, ["SET", keys.lease(NodeID(7)), "someone-else"]) == .success(.status("OK")))
        #expect(link.command(redis, ["DEL", keys.lease(NodeID(8))]) == .success(.integer(1)))
        #expect(waitUntil(timeout: 3) { events.count == 4 })
        let lost = events.all.compactMap { (id, e) -> (UInt32, String)? in if case .lost(let why) = e { (id, why) } else { nil } }
        #expect(lost.map(\.0).sorted() == [7, 8])
        #expect(lost.first { $0.0 == 7 }?.1 == "another node holds this node's id")
        #expect(lost.first { $0.0 == 8 }?.1 == "the lease expired in Redis before it was renewed")
        #expect(link.sync { leases.map(\.isHeld) } == [false, false])
        // Renewing stopped: the rival's value stays, with no TTL set by us.
        let renewalsAfterLoss = link.sync { leases.map(\.renewals) }
        usleep(600_000)
        #expect(link.sync { leases.map(\.renewals) } == renewalsAfterLoss)
        #expect(link.command(redis, ["GET", keys.lease(NodeID(7))]) == .success(.bulk(Array("someone-else".utf8))))
    }

    @Test func afterARedisRestartLeasesAndMembershipAreReassertedWithoutFalseDeaths() throws {
        let server = try RedisServer()
        let lease: Int64 = 2_000
        let a = try TestNode(server, leaseMilliseconds: lease, pollIntervalMilliseconds: 500)
        let b = try TestNode(server, leaseMilliseconds: lease, pollIntervalMilliseconds: 500)
        let d = try TestNode(server, leaseMilliseconds: lease, pollIntervalMilliseconds: 500)
        let probe = try LinkHarness()
        let redis = probe.connect(server.endpoint)
        defer {
            a.shutdown()
            b.shutdown()
            d.shutdown()
            probe.shutdown([redis])
        }
        let ids = [try a.join(), try b.join(), try d.join()]
        #expect(waitUntil(timeout: 3) { a.members == ids.sorted() })

        // D dies just as Redis does; A and B live on.
        d.link.sync { d.membership.lease?.stopRenewing() }
        server.kill()
        usleep(1_000_000)
        try server.start()
        let restarted = Date()
        // A and B reconnect and take their leases again (the new server is empty).
        #expect(waitUntil(timeout: 5) {
            a.leaseEvents.all.contains(.reasserted(wasHeld: false)) && b.leaseEvents.all.contains(.reasserted(wasHeld: false))
        })
        #expect(Date().timeIntervalSince(restarted) < 2.0)  // backoff capped at 300 ms
        #expect(waitUntil(timeout: 3) { probe.sync { redis.isConnected } })  // the probe reconnects too
        #expect(probe.command(redis, ["EXISTS", ClusterKeys().lease(ids[0]), ClusterKeys().lease(ids[1])]) == .success(.integer(2)))
        #expect(probe.command(redis, ["GET", ClusterKeys().nodeSequence]) == .success(.bulk(Array(String(ids[1].rawValue).utf8))))
        // Commands work again on the nodes' own connections.
        #expect(a.link.command(a.membership.commands, ["INCR", "after-restart"]) == .success(.integer(1)))

        // D, which never came back, is declared gone once the grace (lease + poll) is over;
        // A and B, absent from the empty server for a moment, never are.
        #expect(waitUntil(timeout: 6) { a.left.contains(ids[2]) })
        let seenAfter = Date().timeIntervalSince(restarted)
        #expect(seenAfter >= 2.0, "D declared gone \(seenAfter) s after the restart, before the grace ended")
        #expect(a.left == [ids[2]])
        #expect(waitUntil(timeout: 2) { b.left == [ids[2]] })  // B reads on its own schedule
        #expect(a.members == [ids[0], ids[1]])
        #expect(!a.leaseEvents.all.contains { if case .lost = $0 { true } else { false } })
        // A new node takes a fresh id, not one a live node holds.
        let c = try TestNode(server, leaseMilliseconds: lease)
        defer { c.shutdown() }
        let idC = try c.join()
        #expect(!ids[0...1].contains(idC))
        #expect(waitUntil(timeout: 3) { a.members == [ids[0], ids[1], idC].sorted() })
    }
}
