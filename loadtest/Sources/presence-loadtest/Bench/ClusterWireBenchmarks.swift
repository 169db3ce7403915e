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
