import Cluster
import Foundation
import Glibc
import Testing

/// What a link under test saw, in the order it saw it.
enum LinkLogEntry: Equatable, Sendable {
    case frame(from: NodeID, bytes: [UInt8])
    case event(NodeLinkEvent)
}

/// A `NodeLink` on a harness's loop, recording everything it is told.
final class LinkProbe: Sendable {
    let link: NodeLink
    let log = Recorder<LinkLogEntry>()

    init(_ node: UInt32, on harness: LinkHarness, server: RedisServer, prefix: String,
         tune: (inout NodeLink.Configuration) -> Void = { _ in }) {
        var configuration = NodeLink.Configuration(
            redis: .init(endpoint: server.endpoint, backoff: ReconnectBackoff(initialMilliseconds: 20, maximumMilliseconds: 300)),
            keys: ClusterKeys(prefix: prefix))
        tune(&configuration)
        let log = log
        link = NodeLink(node: NodeID(node), loop: harness.loop, configuration: configuration,
                        onFrame: { from, frame in log.append(.frame(from: from, bytes: Array(frame))) },
                        onEvent: { log.append(.event($0)) })
        let link = link
        harness.sync { link.start() }
    }

    func frames(from sender: NodeID) -> [[UInt8]] {
        log.all.compactMap { if case .frame(sender, let bytes) = $0 { bytes } else { nil } }
    }

    var events: [NodeLinkEvent] {
        log.all.compactMap { if case .event(let e) = $0 { e } else { nil } }
    }

    func gaps(from sender: NodeID) -> Int { events.filter { $0 == .gap(from: sender) }.count }
}

/// Frame `index` from some sender: sizes from 0 to 64 KiB, contents that tell frames apart.
func testFrame(_ index: Int, salt: UInt8 = 0) -> [UInt8] {
    let size: Int
    if index % 97 == 0 {
        size = 65_536
    } else if index % 7 == 0 {
        size = 0
    } else {
        size = (index * 37) % 2_100
    }
    return (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index &+ Int(salt)) }
}

/// A frame carrying its writer and number (for senders on several threads, and streams).
func numberedFrame(writer: Int, number: Int, padding: Int = 0) -> [UInt8] {
    withUnsafeBytes(of: UInt32(writer).bigEndian, Array.init) + withUnsafeBytes(of: UInt32(number).bigEndian, Array.init)
        + [UInt8](repeating: 0x5A, count: padding)
}

func readNumbered(_ frame: [UInt8]) -> (writer: Int, number: Int) {
    (Int(frame[0..<4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }), Int(frame[4..<8].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
}

@Suite("NodeLink over a real redis-server",
       .enabled(if: RedisServer.shouldRun, "redis-server is not installed (apt-get install redis-server); PRESENCE_TEST_REQUIRE_REDIS=1 fails instead of skipping"))
struct NodeLinkTests {
    private func waitReady(_ harness: LinkHarness, _ probes: [LinkProbe]) -> Bool {
        waitUntil(timeout: 10) { harness.sync { probes.allSatisfy { $0.link.isReady } } }
    }

    private func close(_ harness: LinkHarness, _ probes: [LinkProbe]) {
        harness.sync { for p in probes { p.link.close() } }
        harness.loop.shutdown()
    }

    @Test func twoLinksExchangeThousandsOfFramesInOrderWithTheirExactBytes() throws {
        let server = try RedisServer()
        let harness = try LinkHarness()
        let a = LinkProbe(1, on: harness, server: server, prefix: "t")
        let b = LinkProbe(2, on: harness, server: server, prefix: "t")
        defer { close(harness, [a, b]) }
        #expect(waitReady(harness, [a, b]))
        let count = 3_000
        let expectedAB = (0..<count).map { testFrame($0, salt: 1) }
        let expectedBA = (0..<count).map { testFrame($0, salt: 2) }
        #expect(expectedAB.contains([]) && expectedAB.contains { $0.count == 65_536 })
        // From a thread of the test's own, as the shards will: send hops onto the loop.
        for i in 0..<count {
            #expect(a.link.send(expectedAB[i], to: b.link.node))
            #expect(b.link.send(expectedBA[i], to: a.link.node))
        }
        #expect(waitUntil(timeout: 20) { b.frames(from: a.link.node).count == count && a.frames(from: b.link.node).count == count })
        #expect(b.frames(from: a.link.node) == expectedAB)
        #expect(a.frames(from: b.link.node) == expectedBA)
        // No loss anywhere, so no gap and nothing undelivered: the control for the tests
        // below, where those events must appear.
        #expect(a.events == [.inboxUp])
        #expect(b.events == [.inboxUp])
        let stats = harness.sync { (a.link.statistics, b.link.statistics) }
        #expect(stats.0.framesSent == count && stats.1.framesReceived == count)
        #expect(stats.0.framesDropped == 0 && stats.1.gapsReported == 0 && stats.1.duplicatesSkipped == 0)
    }

    @Test func threeLinksEachGetEveryOthersFramesInOrder() throws {
        let server = try RedisServer()
        let harness = try LinkHarness()
        let probes = (1...3).map { LinkProbe(UInt32($0), on: harness, server: server, prefix: "t3") }
        defer { close(harness, probes) }
        #expect(waitReady(harness, probes))
        let count = 1_500
        // Each sender on its own thread, to both others, interleaved.
        let threads = probes.map { sender in
            Thread {
                for i in 0..<count {
                    for receiver in probes where receiver !== sender {
                        _ = sender.link.send(testFrame(i, salt: UInt8(sender.link.node.rawValue * 16 + receiver.link.node.rawValue)), to: receiver.link.node)
                    }
                }
            }
        }
        for t in threads { t.start() }
        #expect(waitUntil(timeout: 30) {
            probes.allSatisfy { r in probes.allSatisfy { s in s === r || r.frames(from: s.link.node).count == count } }
        })
        for receiver in probes {
            for sender in probes where sender !== receiver {
                let salt = UInt8(sender.link.node.rawValue * 16 + receiver.link.node.rawValue)
                #expect(receiver.frames(from: sender.link.node) == (0..<count).map { testFrame($0, salt: salt) },
                        "\(sender.link.node) → \(receiver.link.node)")
            }
            #expect(receiver.events == [.inboxUp])
            // Nothing sent to itself.
            #expect(receiver.frames(from: receiver.link.node).isEmpty)
        }
    }

    @Test func framesFromConcurrentThreadsKeepEachThreadsOrderAndGoOutInBatches() throws {
        let server = try RedisServer()
        let harness = try LinkHarness()
        let a = LinkProbe(1, on: harness, server: server, prefix: "tc")
        let b = LinkProbe(2, on: harness, server: server, prefix: "tc")
        defer { close(harness, [a, b]) }
        #expect(waitReady(harness, [a, b]))
        let writers = 4
        let perWriter = 5_000
        let start = DispatchSemaphore(value: 0)
        let threads = (0..<writers).map { w in
            Thread {
                start.wait()
                for n in 0..<perWriter { _ = a.link.send(numberedFrame(writer: w, number: n, padding: n % 300), to: b.link.node) }
            }
        }
        for t in threads { t.start() }
        for _ in 0..<writers { start.signal() }
        #expect(waitUntil(timeout: 30) { b.frames(from: a.link.node).count == writers * perWriter })
        var next = [Int](repeating: 0, count: writers)
        var inOrder = true
        for frame in b.frames(from: a.link.node) {
            let (w, n) = readNumbered(frame)
            if n != next[w] { inOrder = false }
            next[w] = n + 1
        }
        #expect(inOrder)
        #expect(next == [Int](repeating: perWriter, count: writers))
        #expect(b.events == [.inboxUp])
        let sent = harness.sync { a.link.statistics }
        // One PUBLISH per destination per loop turn: with four threads sending flat out,
        // turns gather many frames each.
        #expect(sent.batchesSent < sent.framesSent / 2, "\(sent.batchesSent) batches for \(sent.framesSent) frames")
    }

    @Test func anOverflowingQueueDropsReportsUndeliveredHereAndAGapThere() throws {
        let server = try RedisServer()
        let harness = try LinkHarness()
        let a = LinkProbe(1, on: harness, server: server, prefix: "to") { $0.maxQueuedFramesPerNode = 10 }
        let b = LinkProbe(2, on: harness, server: server, prefix: "to")
        defer { close(harness, [a, b]) }
        #expect(waitReady(harness, [a, b]))
        // Positive control: ten frames in one turn fit.
        let fitted = harness.sync { (0..<10).map { a.link.send(numberedFrame(writer: 0, number: $0), to: NodeID(2)) } }
        #expect(fitted.allSatisfy { $0 })
        #expect(waitUntil(timeout: 5) { b.frames(from: NodeID(1)).count == 10 })
        #expect(b.gaps(from: NodeID(1)) == 0 && a.events == [.inboxUp])
        // Thirty in one turn of the loop (nothing is flushed while this closure runs): the
        // last twenty are dropped.
        let accepted = harness.sync { (10..<40).map { a.link.send(numberedFrame(writer: 0, number: $0), to: NodeID(2)) } }
        #expect(accepted == [Bool](repeating: true, count: 10) + [Bool](repeating: false, count: 20))
        #expect(waitUntil(timeout: 5) { b.gaps(from: NodeID(1)) == 1 })
        #expect(a.events == [.inboxUp, .undelivered(to: NodeID(2))])
        // And the link goes on: the next frames arrive after the gap.
        #expect(harness.sync { a.link.send(numberedFrame(writer: 0, number: 40), to: NodeID(2)) })
        #expect(waitUntil(timeout: 5) { b.frames(from: NodeID(1)).count == 21 })
        #expect(b.frames(from: NodeID(1)).map { readNumbered($0).number } == Array(0..<20) + [40])
        // Where the gap sits: after frame 19, before frame 40.
        let log = b.log.all
        let gapAt = log.firstIndex(of: .event(.gap(from: NodeID(1))))!
        #expect(log[..<gapAt].filter { if case .frame = $0 { true } else { false } }.count == 20)
        #expect(harness.sync { a.link.statistics.framesDropped } == 20)
    }

    @Test func aReceiverWhoseInboxReconnectsIsToldOfTheGapAndFramesFlowAgain() throws {
        let server = try RedisServer()
        let harness = try LinkHarness()
        let a = LinkProbe(1, on: harness, server: server, prefix: "tr")
        let b = LinkProbe(2, on: harness, server: server, prefix: "tr")
        let admin = harness.connect(server.endpoint)
        defer {
            harness.sync { admin.close() }
            close(harness, [a, b])
        }
        #expect(waitReady(harness, [a, b]))
        #expect(waitUntil(timeout: 5) { harness.sync { admin.isConnected } })
        #expect(a.link.send([1], to: NodeID(2)))
        #expect(waitUntil(timeout: 5) { b.frames(from: NodeID(1)) == [[1]] })
        #expect(b.gaps(from: NodeID(1)) == 0)  // positive control
        // Redis drops both inboxes (subscriber connections); the publishers stay.
        guard case .success(.integer(let killed)) = harness.command(admin, ["CLIENT", "KILL", "TYPE", "pubsub"]) else {
            Issue.record("CLIENT KILL failed")
            return
        }
        #expect(killed == 2)
        #expect(waitUntil(timeout: 10) { b.gaps(from: NodeID(1)) == 1 && harness.sync { b.link.isListening } })
        #expect(b.events == [.inboxUp, .inboxDown, .gap(from: NodeID(1)), .inboxUp])
        // A heard nothing from B before, so it has no sender to report.
        #expect(waitUntil(timeout: 10) { a.events == [.inboxUp, .inboxDown, .inboxUp] })
        #expect(a.link.send([2], to: NodeID(2)))
        #expect(waitUntil(timeout: 5) { b.frames(from: NodeID(1)) == [[1], [2]] })
        #expect(b.gaps(from: NodeID(1)) == 1)
    }

    @Test func aRedisRestartMidStreamGivesTheReceiverOneGapThenFramesFlowAgainInOrder() throws {
        let server = try RedisServer()
        let harness = try LinkHarness()
        let a = LinkProbe(1, on: harness, server: server, prefix: "tk")
        let b = LinkProbe(2, on: harness, server: server, prefix: "tk")
        defer { close(harness, [a, b]) }
        #expect(waitReady(harness, [a, b]))
        let stop = Locked(false)
        let sent = Locked(0)
        let sender = Thread {
            var n = 0
            // Bounded: at most 60 s of frames, one every millisecond or so.
            while !stop.withLock({ $0 }), n < 60_000 {
                _ = a.link.send(numberedFrame(writer: 0, number: n, padding: 100), to: NodeID(2))
                n += 1
                sent.withLock { $0 = n }
                usleep(1_000)
            }
        }
        sender.start()
        defer { stop.withLock { $0 = true } }
        #expect(waitUntil(timeout: 10) { b.frames(from: NodeID(1)).count >= 200 })
        #expect(b.gaps(from: NodeID(1)) == 0)  // positive control: streaming, nothing lost
        server.kill()
        usleep(300_000)
        try server.start()
        #expect(waitUntil(timeout: 10) { b.gaps(from: NodeID(1)) >= 1 })
        let atGap = sent.withLock { $0 }
        // Frames sent after the restart arrive.
        #expect(waitUntil(timeout: 10) { (b.frames(from: NodeID(1)).last.map { readNumbered($0).number } ?? 0) > atGap + 200 })
        stop.withLock { $0 = true }
        let numbers = b.frames(from: NodeID(1)).map { readNumbered($0).number }
        // Never out of order, never twice; some lost across the restart.
        #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $0 < $1 })
        #expect(numbers.count < numbers.last! + 1)
        // One outage, one gap: the sender's notice after its own reconnect does not make a
        // second one, as the receiver already re-baselined.
        #expect(b.gaps(from: NodeID(1)) == 1)
        #expect(b.events.contains(.inboxDown))
        #expect(a.events.contains(.undelivered(to: NodeID(2))))
    }

    @Test func aSenderThatCouldNotPublishTellsTheReceiverOfTheGapOnceBackWithoutNewFrames() throws {
        let server = try RedisServer()
        let harness = try LinkHarness()
        let a = LinkProbe(1, on: harness, server: server, prefix: "ts")
        let b = LinkProbe(2, on: harness, server: server, prefix: "ts")
        defer { close(harness, [a, b]) }
        #expect(waitReady(harness, [a, b]))
        #expect(a.link.send([1], to: NodeID(2)))
        #expect(waitUntil(timeout: 5) { b.frames(from: NodeID(1)) == [[1]] })
        // Frames published to a channel nobody listens on are lost, and the sender hears
        // so from PUBLISH's count of receivers: here B's inbox is closed for good.
        harness.sync { b.link.close() }
        #expect(a.link.send([2], to: NodeID(2)))
        #expect(waitUntil(timeout: 5) { a.events.contains(.undelivered(to: NodeID(2))) })
        // Node 2's inbox back (a new link on the same channel, standing for an inbox down
        // for long): it hears of the gap from A's sync notice alone, A sends no new frame.
        let b2 = LinkProbe(2, on: harness, server: server, prefix: "ts")
        defer { harness.sync { b2.link.close() } }
        #expect(waitUntil(timeout: 5) { b2.gaps(from: NodeID(1)) == 1 })
        #expect(b2.frames(from: NodeID(1)).isEmpty)
        #expect(a.events.filter { $0 == .undelivered(to: NodeID(2)) }.count == 1)
    }

    @Test func aForgottenSenderThatSpeaksAgainReadsAsAGap() throws {
        let server = try RedisServer()
        let harness = try LinkHarness()
        let a = LinkProbe(1, on: harness, server: server, prefix: "tf")
        let b = LinkProbe(2, on: harness, server: server, prefix: "tf")
        defer { close(harness, [a, b]) }
        #expect(waitReady(harness, [a, b]))
        #expect(a.link.send([1], to: NodeID(2)))
        #expect(waitUntil(timeout: 5) { b.frames(from: NodeID(1)) == [[1]] })
        #expect(a.link.send([2], to: NodeID(2)))
        #expect(waitUntil(timeout: 5) { b.frames(from: NodeID(1)) == [[1], [2]] })
        #expect(b.gaps(from: NodeID(1)) == 0)  // positive control
        // B drops node 1 (it left the live set, say) while node 1 in fact lives on: its
        // next frame, numbered 3, is delivered after a gap, the safe reading.
        harness.sync { b.link.forget(NodeID(1)) }
        #expect(a.link.send([3], to: NodeID(2)))
        #expect(waitUntil(timeout: 5) { b.frames(from: NodeID(1)) == [[1], [2], [3]] })
        #expect(b.gaps(from: NodeID(1)) == 1)
        // A closed link takes nothing more.
        harness.sync { a.link.close() }
        #expect(!a.link.send([4], to: NodeID(2)))
    }

    @Test func aTurnsFramesForOneNodeGoOutInBatchesOfAtMostMaxBatchBytes() throws {
        let server = try RedisServer()
        let harness = try LinkHarness()
        let a = LinkProbe(1, on: harness, server: server, prefix: "tb") { $0.maxBatchBytes = 8_192 }
        let b = LinkProbe(2, on: harness, server: server, prefix: "tb")
        defer { close(harness, [a, b]) }
        #expect(waitReady(harness, [a, b]))
        // Positive control: four 2 KiB frames in one turn fill exactly one batch.
        harness.sync { for n in 0..<4 { _ = a.link.send(numberedFrame(writer: 0, number: n, padding: 2_040), to: NodeID(2)) } }
        #expect(waitUntil(timeout: 5) { b.frames(from: NodeID(1)).count == 4 })
        #expect(harness.sync { a.link.statistics.batchesSent } == 1)
        // Then, in one turn: 21 frames of 2 KiB (five full batches and one more), and one
        // 20 KiB frame, which goes alone.
        harness.sync {
            for n in 4..<25 { _ = a.link.send(numberedFrame(writer: 0, number: n, padding: 2_040), to: NodeID(2)) }
            _ = a.link.send(numberedFrame(writer: 0, number: 25, padding: 20_000), to: NodeID(2))
        }
        #expect(waitUntil(timeout: 5) { b.frames(from: NodeID(1)).count == 26 })
        #expect(b.frames(from: NodeID(1)).map { readNumbered($0).number } == Array(0..<26))
        #expect(harness.sync { a.link.statistics.batchesSent } == 1 + 6 + 1)
        // Split batches number on from each other: no gap.
        #expect(b.events == [.inboxUp])
    }
}
