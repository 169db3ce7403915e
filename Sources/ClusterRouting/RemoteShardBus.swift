import Cluster
import ClusterWire
import Presence
import Synchronization

/// A shard of some node: where a cluster's shard messages are addressed.
public struct ShardAddress: Hashable, Sendable, CustomStringConvertible {
    public var node: NodeID
    public var shard: UInt8

    public init(node: NodeID, shard: UInt8) {
        self.node = node
        self.shard = shard
    }

    public var description: String { "\(node.rawValue)/\(shard)" }
}

/// What a `RemoteShardBus` tells its owner besides the messages, on the link's loop thread.
public enum RemoteShardBusEvent: Equatable, Sendable {
    /// Messages from `from` may be missing before the next one delivered from it: the link
    /// lost frames (`NodeLinkEvent.gap`), or a batch from it was unreadable, addressed to
    /// another node, or out of its stream's sequence. What depends on that node's messages
    /// must be resynchronised (Protocol/cluster.md, "Cross-node routing").
    case lost(from: NodeID)
    /// Messages to `to` may not have arrived (`NodeLinkEvent.undelivered`).
    case undelivered(to: NodeID)
}

/// The cross-node half of a cluster's `ClusterBus`: carries `ShardMessage`s from a shard of
/// this node to a shard of another, over a `NodeLink`, in the binary form of
/// `ClusterWire`, and hands each one received to `deliver` with where it came from and
/// which local shard it is for.
///
/// - **Streams.** A stream is (source node, source shard, destination node, destination
///   shard), the unit `ClusterBus` orders. Each source shard has its own outbox, used only
///   from that shard's thread: `carry` encodes a message into the open batch for its
///   destination, and `flush` (at the end of the shard's turn) sends every open batch as
///   one link frame, numbered 1, 2, 3 … per stream (the batch header's sequence).
/// - **Order.** The link keeps frames in order per sender and reports what it loses; the
///   batch numbers are checked again here, per stream, so a batch that arrives out of its
///   stream's order, or addressed to another node (a node since rejoined under a new id),
///   is reported, never silently applied out of order.
/// - **Loss is reported, not repaired** (`RemoteShardBusEvent.lost`), always before the
///   messages that follow it; the messages after a loss are still delivered, as the link
///   does with frames. A batch that does not decode is dropped whole.
/// - Encoded once per destination shard: the same message to two shards of one node is two
///   batches' bytes, each decoded by the receiver into its own value.
///
/// `@unchecked Sendable`: each outbox is behind its own `Mutex` (uncontended: one shard's
/// thread uses it); the receiving state is touched only on the link's loop thread (the
/// link's callbacks run there, and `forget` asserts it).
public final class RemoteShardBus: @unchecked Sendable {
    public typealias Deliver = (_ message: ShardMessage, _ from: ShardAddress, _ toShard: UInt8) -> Void

    /// This node.
    public let node: NodeID
    /// The link the batches travel over; `start()` and `close()` it on its loop.
    public private(set) var link: NodeLink!

    /// One source shard's open batches and stream numbers. A class, as `Mutex` cannot be
    /// kept in an array.
    private final class Outbox: Sendable {
        struct State {
            var batches: [ShardAddress: BatchWriter] = [:]
            var nextSequence: [ShardAddress: UInt64] = [:]
        }
        let state = Mutex(State())
    }

    private struct StreamKey: Hashable {
        var source: ShardAddress
        var destinationShard: UInt8
    }

    private let outboxes: [Outbox]
    private let deliver: Deliver
    private let onEvent: (RemoteShardBusEvent) -> Void
    // Loop thread only.
    private var expected: [StreamKey: UInt64] = [:]
    /// Senders whose loss was reported without a batch to measure it (a link gap): each of
    /// their streams takes its next batch as the new baseline, without a second report.
    private var rebaselining: Set<NodeID> = []

    /// - Parameters:
    ///   - node: this node's id (the link's).
    ///   - shards: this node's shard count; `carry` and `flush` take a source shard below it.
    ///   - loop, configuration: for the `NodeLink` made here.
    ///   - deliver: each message received, on the loop thread, in order per stream.
    ///   - onEvent: losses and undelivered sends, on the loop thread.
    public init(node: NodeID, shards: Int, loop: ClusterLoop, configuration: NodeLink.Configuration,
                deliver: @escaping Deliver, onEvent: @escaping (RemoteShardBusEvent) -> Void) {
        precondition((1...Int(UInt8.max) + 1).contains(shards), "a node has 1...256 shards")
        self.node = node
        outboxes = (0..<shards).map { _ in Outbox() }
        self.deliver = deliver
        self.onEvent = onEvent
        link = NodeLink(node: node, loop: loop, configuration: configuration,
                        onFrame: { [unowned self] from, frame in self.received(frame, from: from) },
                        onEvent: { [unowned self] event in self.linkEvent(event) })
    }

    // MARK: - Sending (each source shard's own thread)

    /// Encodes `message` into the batch open from `shard` to `destination`; it leaves at
    /// the shard's next `flush`.
    public func carry(_ message: ShardMessage, from shard: UInt8, to destination: ShardAddress) {
        outboxes[Int(shard)].state.withLock { outbox in
            if outbox.batches[destination] == nil {
                let sequence = outbox.nextSequence[destination, default: 1]
                outbox.nextSequence[destination] = sequence + 1
                outbox.batches[destination] = BatchWriter(header: BatchHeader(
                    sourceNode: UInt64(node.rawValue), sourceShard: shard,
                    destinationNode: UInt64(destination.node.rawValue), destinationShard: destination.shard,
                    sequence: sequence))
            }
            outbox.batches[destination]!.append(message)
        }
    }

    /// Sends every batch open from `shard`, each as one frame to its node.
    /// - Returns: how many batches the link refused (their numbers are spent, so the
    ///   receivers see the loss; the link reports `undelivered` here).
    @discardableResult
    public func flush(from shard: UInt8) -> Int {
        let batches = outboxes[Int(shard)].state.withLock { outbox in
            defer { outbox.batches.removeAll(keepingCapacity: true) }
            return outbox.batches.map { ($0.key.node, $0.value) }
        }
        var refused = 0
        for (destination, writer) in batches where !link.send(writer.finish(), to: destination) {
            refused += 1
        }
        return refused
    }

    // MARK: - Receiving (loop thread)

    /// Forgets what we know of `peer`'s streams: call when it has left the live set.
    public func forget(_ peer: NodeID) {
        precondition(link.loop.isOnLoopThread, "RemoteShardBus.forget off its loop")
        link.forget(peer)
        expected = expected.filter { $0.key.source.node != peer }
        rebaselining.remove(peer)
    }

    private func received(_ frame: ArraySlice<UInt8>, from sender: NodeID) {
        let batch: ShardBatch
        do {
            batch = try ClusterWire.decodeBatch(frame)
        } catch {
            onEvent(.lost(from: sender))
            return
        }
        let header = batch.header
        guard header.sourceNode == UInt64(sender.rawValue), header.destinationNode == UInt64(node.rawValue),
              Int(header.destinationShard) < outboxes.count else {
            onEvent(.lost(from: sender))
            return
        }
        let source = ShardAddress(node: sender, shard: header.sourceShard)
        let key = StreamKey(source: source, destinationShard: header.destinationShard)
        if let next = expected[key] {
            if header.sequence < next { return }  // a repeat: only a bug sends one (the link never retries)
            if header.sequence > next { onEvent(.lost(from: sender)) }
        } else if header.sequence != 1, !rebaselining.contains(sender) {
            onEvent(.lost(from: sender))  // a stream heard first after its start
        }
        expected[key] = header.sequence + 1
        for message in batch.messages { deliver(message, source, header.destinationShard) }
    }

    private func linkEvent(_ event: NodeLinkEvent) {
        switch event {
        case .gap(let sender):
            onEvent(.lost(from: sender))
            expected = expected.filter { $0.key.source.node != sender }
            rebaselining.insert(sender)
        case .undelivered(let peer):
            onEvent(.undelivered(to: peer))
        case .inboxUp, .inboxDown:
            break
        }
    }
}
