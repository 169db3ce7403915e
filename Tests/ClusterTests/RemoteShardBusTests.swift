import Cluster
import ClusterRouting
import ClusterWire
import Foundation
import Presence
import Testing

/// A `RemoteShardBus` on a harness's loop, recording what it delivers and reports.
final class BusProbe: Sendable {
    enum Entry: Equatable, Sendable {
        case message(ShardMessage, from: ShardAddress, toShard: UInt8)
        case event(RemoteShardBusEvent)
    }

    let bus: RemoteShardBus
    let log = Recorder<Entry>()

    init(_ node: UInt32, shards: Int, on harness: LinkHarness, server: RedisServer, prefix: String) {
        let configuration = NodeLink.Configuration(
            redis: .init(endpoint: server.endpoint, backoff: ReconnectBackoff(initialMilliseconds: 20, maximumMilliseconds: 300)),
            keys: ClusterKeys(prefix: prefix))
        let log = log
        bus = RemoteShardBus(node: NodeID(node), shards: shards, loop: harness.loop, configuration: configuration,
                             deliver: { log.append(.message($0, from: $1, toShard: $2)) },
                             onEvent: { log.append(.event($0)) })
        let link = bus.link!
        harness.sync { link.start() }
    }

    var messages: [(ShardMessage, ShardAddress, UInt8)] {
        log.all.compactMap { if case .message(let m, let from, let to) = $0 { (m, from, to) } else { nil } }
    }

    var events: [RemoteShardBusEvent] {
        log.all.compactMap { if case .event(let e) = $0 { e } else { nil } }
    }
}

/// A message that says which stream it is on and its place in it.
func streamMessage(_ source: Int, _ destination: Int, _ n: Int) -> ShardMessage {
    .chat(ChatMessage(id: MessageID(UInt64(n)), sender: UserID(email: "s\(source)@x.io")!,
                      recipient: UserID(email: "d\(destination)@x.io")!, clientMessageID: "c\(n)",
                      body: String(repeating: "b", count: n % 300), sentAt: Instant(milliseconds: Int64(n))))
}

@Suite("RemoteShardBus over a real redis-server",
       .enabled(if: RedisServer.shouldRun, "redis-server is not installed (apt-get install redis-server); PRESENCE_TEST_REQUIRE_REDIS=1 fails instead of skipping"))
struct RemoteShardBusTests {
    private func start(_ server: RedisServer) throws -> (LinkHarness, BusProbe, BusProbe) {
        let harness = try LinkHarness()
        let a = BusProbe(1, shards: 2, on: harness, server: server, prefix: "bus")
        let b = BusProbe(2, shards: 2, on: harness, server: server, prefix: "bus")
        #expect(waitUntil(timeout: 10) { harness.sync { a.bus.link.isReady && b.bus.link.isReady } })
        return (harness, a, b)
    }

    private func stop(_ harness: LinkHarness, _ probes: BusProbe...) {
        harness.sync { for p in probes { p.bus.link.close() } }
        harness.loop.shutdown()
    }

    /// Two source shards on node 1 send to both shards of node 2, interleaved, flushing at
    /// uneven points, as shards' turns would: every message arrives once, decoded equal,
    /// with its source and destination, in order per stream, and nothing is reported lost.
    @Test func messagesCrossBetweenNodesInOrderPerStream() throws {
        let server = try RedisServer()
        let (harness, a, b) = try start(server)
        defer { stop(harness, a, b) }
        let perStream = 400
        var sent: [String: [ShardMessage]] = [:]
        for n in 0..<perStream {
            for source in 0..<2 {
                for destination in 0..<2 {
                    let message = streamMessage(source, destination, n)
                    a.bus.carry(message, from: UInt8(source), to: ShardAddress(node: NodeID(2), shard: UInt8(destination)))
                    sent["\(source)>\(destination)", default: []].append(message)
                }
                if n % (source == 0 ? 7 : 13) == 0 { #expect(a.bus.flush(from: UInt8(source)) == 0) }
            }
        }
        #expect(a.bus.flush(from: 0) == 0)
        #expect(a.bus.flush(from: 1) == 0)
        #expect(waitUntil(timeout: 10) { b.messages.count == 4 * perStream })
        var received: [String: [ShardMessage]] = [:]
        for (message, from, to) in b.messages {
            #expect(from.node == NodeID(1))
            received["\(from.shard)>\(to)", default: []].append(message)
        }
        #expect(received == sent)
        #expect(b.events.isEmpty)
        #expect(a.events.isEmpty)
    }

    /// A batch addressed to another node, one out of its stream's sequence, and bytes that
    /// do not decode are each reported as a loss from their sender; what comes after a
    /// loss in sequence is still delivered. Sent raw over node 1's link, as a faulty or
    /// rejoined peer would.
    @Test func misaddressedOutOfSequenceAndUnreadableBatchesAreReportedAsLost() throws {
        let server = try RedisServer()
        let (harness, a, b) = try start(server)
        defer { stop(harness, a, b) }
        func batch(to node: UInt64, sequence: UInt64, _ n: Int) -> [UInt8] {
            var writer = BatchWriter(header: BatchHeader(sourceNode: 1, sourceShard: 0, destinationNode: node,
                                                         destinationShard: 1, sequence: sequence))
            writer.append(streamMessage(0, 1, n))
            return writer.finish()
        }
        // Positive control: sequence 1 on a fresh stream is taken without a report.
        #expect(a.bus.link.send(batch(to: 2, sequence: 1, 1), to: NodeID(2)))
        #expect(waitUntil(timeout: 10) { b.messages.count == 1 })
        #expect(b.events.isEmpty)
        // Addressed to node 3: dropped, reported.
        #expect(a.bus.link.send(batch(to: 3, sequence: 2, 2), to: NodeID(2)))
        // Sequence 5 after 1: reported, then delivered.
        #expect(a.bus.link.send(batch(to: 2, sequence: 5, 5), to: NodeID(2)))
        // Not a batch at all.
        #expect(a.bus.link.send([0x07, 0x01, 0x02], to: NodeID(2)))
        // A repeat of 5: skipped silently.
        #expect(a.bus.link.send(batch(to: 2, sequence: 5, 5), to: NodeID(2)))
        // 6 follows 5: delivered, no report.
        #expect(a.bus.link.send(batch(to: 2, sequence: 6, 6), to: NodeID(2)))
        #expect(waitUntil(timeout: 10) { b.messages.count == 3 })
        Thread.sleep(forTimeInterval: 0.2)
        #expect(b.messages.map(\.0) == [streamMessage(0, 1, 1), streamMessage(0, 1, 5), streamMessage(0, 1, 6)])
        #expect(b.events == [.lost(from: NodeID(1)), .lost(from: NodeID(1)), .lost(from: NodeID(1))])
        // The reports came before what followed them: the second message after the first loss.
        let order = b.log.all
        let firstLoss = try #require(order.firstIndex(of: .event(.lost(from: NodeID(1)))))
        let fifth = try #require(order.firstIndex { if case .message(streamMessage(0, 1, 5), _, _) = $0 { true } else { false } })
        #expect(firstLoss < fifth)
    }

    /// Sending to a node nobody listens for is reported undelivered at the sender.
    @Test func aBatchToAnAbsentNodeIsReportedUndelivered() throws {
        let server = try RedisServer()
        let (harness, a, b) = try start(server)
        defer { stop(harness, a, b) }
        a.bus.carry(streamMessage(0, 0, 1), from: 0, to: ShardAddress(node: NodeID(9), shard: 0))
        a.bus.flush(from: 0)
        #expect(waitUntil(timeout: 10) { a.events.contains(.undelivered(to: NodeID(9))) })
        // Positive control: the same to node 2 arrives.
        a.bus.carry(streamMessage(0, 0, 2), from: 0, to: ShardAddress(node: NodeID(2), shard: 0))
        a.bus.flush(from: 0)
        #expect(waitUntil(timeout: 10) { b.messages.count == 1 })
    }

    /// Redis restarts mid-stream: the receiver is told of the loss once (the link's gap),
    /// its streams take the next batches as their new baseline without a second report,
    /// and messages flow again, in order per stream.
    @Test func aRedisRestartIsOneLossThenStreamsFlowAgainInOrder() throws {
        let server = try RedisServer()
        let (harness, a, b) = try start(server)
        defer { stop(harness, a, b) }
        let stopSending = Locked(false)
        let sent = Locked(0)
        let sender = Thread {
            var n = 0
            // Bounded: at most 60 s, a batch per stream every millisecond or so.
            while !stopSending.withLock({ $0 }), n < 60_000 {
                for destination in 0..<2 {
                    a.bus.carry(streamMessage(0, destination, n), from: 0, to: ShardAddress(node: NodeID(2), shard: UInt8(destination)))
                }
                a.bus.flush(from: 0)
                n += 1
                sent.withLock { $0 = n }
                usleep(1_000)
            }
        }
        sender.start()
        defer { stopSending.withLock { $0 = true } }
        #expect(waitUntil(timeout: 10) { b.messages.count >= 400 })
        #expect(b.events.isEmpty)  // positive control: streaming, nothing lost
        server.kill()
        usleep(300_000)
        try server.start()
        #expect(waitUntil(timeout: 10) { b.events.contains(.lost(from: NodeID(1))) })
        let atLoss = sent.withLock { $0 }
        #expect(waitUntil(timeout: 10) {
            b.messages.contains { if case .chat(let m) = $0.0 { Int(m.id.rawValue) > atLoss + 200 } else { false } }
        })
        stopSending.withLock { $0 = true }
        for destination: UInt8 in 0..<2 {
            let numbers = b.messages.filter { $0.2 == destination }.compactMap { entry -> Int? in
                if case .chat(let m) = entry.0 { Int(m.id.rawValue) } else { nil }
            }
            #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $0 < $1 })
            #expect(numbers.count < numbers.last! + 1)  // some were lost across the restart
        }
        #expect(b.events == [.lost(from: NodeID(1))])
    }
}
