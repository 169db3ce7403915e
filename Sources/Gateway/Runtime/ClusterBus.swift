import Presence

/// The seam between presence shards: carries a `ShardMessage` from the shard whose core
/// emitted it (`Effect.forward`) to the shard it names, where it is applied as
/// `Command.fromShard`. Messages from one shard to another arrive in the order they were
/// sent, exactly once while both run; nothing else is promised, and the core asks for
/// nothing else.
///
/// In one process the shards' mailboxes are the bus (`PresenceShards`). A cluster of
/// processes puts Redis behind the same call: a shard number then names a shard of some
/// node, and the message crosses the network in the same order.
protocol ClusterBus: AnyObject, Sendable {
    /// Queues `message` for shard `shard`, after everything `source` sent it before.
    func carry(_ message: ShardMessage, from source: Int, to shard: Int)
}
