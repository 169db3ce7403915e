import ClusterWire
import Presence

/// The shard-message codec (Sources/ClusterWire) on the message a status change fans out
/// most: `published` with a plain view and no reveals, 100 to a batch, as a bus between
/// processes would carry them. One operation is one message.
enum ClusterWireBenchmarks {
    static let batchSize = 100

    final class Fixture {
        let batch: ShardBatch
        let bytes: [UInt8]
        var buffer: [UInt8] = []
        var decoded = 0

        init() {
            let messages = (0..<ClusterWireBenchmarks.batchSize).map { index in
                ShardMessage.published(subject: UserID(email: "user\(index + 1000)@load.test")!,
                                       view: PresenceView(status: index.isMultiple(of: 2) ? .busy : .online),
                                       reveals: [])
            }
            batch = ShardBatch(header: BatchHeader(sourceNode: 1, sourceShard: 0, destinationNode: 2,
                                                   destinationShard: 1, sequence: 1),
                               messages: messages)
            var bytes: [UInt8] = []
            ClusterWire.encodeBatch(batch, into: &bytes)
            self.bytes = bytes
            buffer.reserveCapacity(bytes.count)
        }
    }

    static let recipients = 50

    /// A home's delivery to one edge: one presence event's body (as `EventEncoder` writes
    /// it, without the `{"seq":N,` prefix) for 50 of the edge's connections, each with its
    /// own two-byte sequence: the edge batch a status change sends to each edge node.
    final class DeliveryFixture {
        let batch: EdgeBatch
        let bytes: [UInt8]
        var buffer: [UInt8] = []
        var decoded = 0

        init() {
            let body = Array(#""type":"presence","user":"user1234@load.test","status":"online","lastSeen":null}"#.utf8)
            let recipients = (0..<ClusterWireBenchmarks.recipients).map { (index: Int) -> EdgeRecipient in
                // Packed connection IDs spread over two loops, with generations and fds.
                let n = UInt64(index)
                let connection: UInt64 = (n % 2) << 56 | (7 + n) << 24 | (40 + n)
                return EdgeRecipient(connection: connection, sequence: 1_000 + n * 7)
            }
            batch = EdgeBatch(header: BatchHeader(sourceNode: 1, sourceShard: 0, destinationNode: 2, destinationShard: 0,
                                                  sequence: 1),
                              messages: [.deliver(body: body, to: recipients)])
            var bytes: [UInt8] = []
            ClusterWire.encodeBatch(batch, into: &bytes)
            self.bytes = bytes
            buffer.reserveCapacity(bytes.count)
        }
    }

    /// One operation is one whole batch (header, the body once, 50 recipients).
    static func deliveries(_ x: DeliveryFixture) -> [Benchmark] {
        [
            Benchmark(name: "edge wire: encode a 50-recipient deliver batch (ClusterWire.encodeBatch, per batch)",
                      operationsPerCall: 1, bytesPerOperation: x.bytes.count) {
                x.buffer.removeAll(keepingCapacity: true)
                ClusterWire.encodeBatch(x.batch, into: &x.buffer)
                x.decoded &+= x.buffer.count
            },
            Benchmark(name: "edge wire: decode a 50-recipient deliver batch (ClusterWire.decodeEdgeBatch, per batch)",
                      operationsPerCall: 1, bytesPerOperation: x.bytes.count) {
                x.decoded &+= (try? ClusterWire.decodeEdgeBatch(x.bytes))?.messages.count ?? 0
            },
        ]
    }

    static func all(_ x: Fixture) -> [Benchmark] {
        let perMessage = (x.bytes.count - ClusterWire.headerSize) / batchSize
        return [
            Benchmark(name: "cluster wire: encode published (ClusterWire.encodeBatch, per message)",
                      operationsPerCall: batchSize, bytesPerOperation: perMessage) {
                x.buffer.removeAll(keepingCapacity: true)
                ClusterWire.encodeBatch(x.batch, into: &x.buffer)
                x.decoded &+= x.buffer.count
            },
            Benchmark(name: "cluster wire: decode published (ClusterWire.decodeBatch, per message)",
                      operationsPerCall: batchSize, bytesPerOperation: perMessage) {
                x.decoded &+= (try? ClusterWire.decodeBatch(x.bytes))?.messages.count ?? 0
            },
            Benchmark(name: "cluster wire: encode + decode published (per message)",
                      operationsPerCall: batchSize, bytesPerOperation: perMessage) {
                x.buffer.removeAll(keepingCapacity: true)
                ClusterWire.encodeBatch(x.batch, into: &x.buffer)
                x.decoded &+= (try? ClusterWire.decodeBatch(x.buffer))?.messages.count ?? 0
            },
        ]
    }
}
