import Accounts
import ClusterWire
import Foundation
import Logging
import Presence
import Storage
import Synchronization
import Transport
import WebSocket

/// The per-thread context of an account worker: its own database connection and the
/// account service over it.
final class AccountWorker {
    let database: Database
    let service: AccountService

    /// - Parameter publicBaseURL: where this gateway is reached, for links in mail.
    init(location: StorageLocation, configuration: GatewayConfiguration, publicBaseURL: String) throws {
        database = try Database(location: location)
        var accounts = configuration.accounts
        // Reset links point at the page this gateway serves.
        accounts.mail.resetLinkBase = publicBaseURL + "/reset?token="
        service = AccountService(database: database, configuration: accounts,
                                 hasher: configuration.passwordHasher, signInLimiter: configuration.signInLimiter, resetLimiter: configuration.resetLimiter,
                                 google: configuration.google, signUpLimiter: configuration.signUpLimiter)
    }
}

/// Everything the event loops, the presence thread and the workers share. Built once by
/// `Gateway`, immutable afterwards.
///
/// `@unchecked Sendable`: `server`, `handlers` and `accounts` are set once, before any loop
/// or worker runs, and only read afterwards; every other property is `let` and Sendable or internally
/// synchronized.
final class GatewayRuntime: @unchecked Sendable {
    let configuration: GatewayConfiguration
    let writer: StorageWriter
    let metrics: GatewayMetrics
    /// Made once the listeners are bound: mail links need the bound port.
    var accounts: WorkerPool<AccountWorker>!
    /// The web client's files, served at `/`.
    let webAssets: WebAssets
    /// The presence shards, and the bus between them.
    var presence: PresenceShards!
    var server: Server!
    var handlers: [GatewayHandler] = []
    /// This node's place in a cluster (`--cluster-url`); nil for a single process.
    var cluster: ClusterNode?
    /// Set when draining: `/readyz` answers 503.
    var isDraining: Bool { draining.load(ordering: .relaxed) }
    let draining = Atomic<Bool>(false)
    private let nextCall = Atomic<UInt64>(1)
    let log = Logger(label: "gateway")

    init(configuration: GatewayConfiguration) throws {
        self.configuration = configuration
        try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        let metrics = GatewayMetrics(registry: configuration.metricsRegistry,
                                     presenceShards: ShardPlacement(count: configuration.presenceShards, index: 0).count)
        webAssets = WebAssets(root: configuration.webRoot)
        self.metrics = metrics
        // Opening the writer runs the migrations before any reader opens the file.
        writer = try StorageWriter(location: configuration.storageLocation, capacity: configuration.storageWriterCapacity,
                                   whenIdle: ThreadCacheFlush.flushNow) { duration, _ in
            metrics.storageCommit.recordNanoseconds(GatewayMetrics.nanoseconds(duration))
        }
        log.info("web client", metadata: ["files": "\(webAssets.origin)"])
    }

    /// Starts the account workers; called once, after the listeners are bound.
    func startAccountWorkers(publicBaseURL: String) throws {
        let location = configuration.storageLocation
        let configuration = self.configuration
        accounts = try WorkerPool(name: "accounts", threads: configuration.accountThreads,
                                  capacity: configuration.accountQueueCapacity) {
            try AccountWorker(location: location, configuration: configuration, publicBaseURL: publicBaseURL)
        }
    }

    func newCallID() -> CallID { presence.current.qualifier.call(nextCall.wrappingAdd(1, ordering: .relaxed).oldValue) }

    func handler(of connection: ConnectionID) -> GatewayHandler { handlers[connection.loop] }

    // MARK: - What presence does to connections, local or held by another node
    //
    // A connection of this process goes to its loop; one that another node holds (a
    // `RemoteConnection`, only in a cluster) goes to that node as an `EdgeMessage`, tagged
    // with `epoch`, the epoch the connection was known in: once a re-placement replaced
    // it, the message is dropped (the edge closed the connection with 1012 already).

    /// Sends a text message (a reply, an error, a `closing` notice).
    func send(_ id: ConnectionID, _ payload: [UInt8], epoch: UInt64) {
        if let remote = RemoteConnection.parse(id) {
            cluster?.sendToEdge(slot: remote.slot, .reply(connection: remote.edge, bytes: payload), epoch: epoch)
        } else {
            server.send(id, opcode: .text, payload: payload)
        }
    }

    /// Answers a request.
    func reply(_ target: ReplyTarget, _ payload: [UInt8]) {
        send(target.connection, payload, epoch: target.epoch)
    }

    /// Starts a close handshake.
    func close(_ id: ConnectionID, code: CloseCode, reason: String, epoch: UInt64) {
        if let remote = RemoteConnection.parse(id) {
            cluster?.sendToEdge(slot: remote.slot, .close(connection: remote.edge, code: code.rawValue, reason: reason), epoch: epoch)
        } else {
            server.close(id, code: code, reason: reason)
        }
    }

    /// Delivers one event (`body`, encoded once) to each recipient with its own `seq`: the
    /// local ones through the loops, the others as one `EdgeMessage.deliver` per edge node.
    func deliver(body: [UInt8], to recipients: [(ConnectionID, UInt64)], epoch: UInt64) {
        var local = recipients
        if let cluster, recipients.contains(where: { $0.0.loop >= RemoteConnection.firstLoop }) {
            local.removeAll(keepingCapacity: true)
            var remote: [Int: [EdgeRecipient]] = [:]
            for (id, seq) in recipients {
                if let r = RemoteConnection.parse(id) {
                    remote[r.slot, default: []].append(EdgeRecipient(connection: r.edge, sequence: seq))
                } else {
                    local.append((id, seq))
                }
            }
            for (slot, to) in remote { cluster.sendToEdge(slot: slot, .deliver(body: body, to: to), epoch: epoch) }
        }
        guard !local.isEmpty else { return }
        server.deliver(body: body, to: local) { seq, buffer in EventEncoder.eventPrefix(seq: seq, into: &buffer) }
    }

    /// Tells the connection's loop that it is signed in (before the reply is sent).
    /// - Parameter device: the device kind of a user session; nil for a subscriber.
    func markSignedIn(_ connection: ConnectionID, session: SessionID, device: Presence.DeviceKind?, epoch: PresenceEpoch) {
        if let remote = RemoteConnection.parse(connection) {
            cluster?.sendToEdge(slot: remote.slot, .attach(connection: remote.edge, session: session, device: device), epoch: epoch.tag)
            return
        }
        let parity = epoch.serial & 1
        server.execute(on: connection) { [self] loop in
            handler(of: connection).signedIn(connection, session: session, device: device, epochParity: parity, on: loop)
        }
    }

    /// The core refused a sign-in the accounts had accepted.
    func signInRefused(_ target: ReplyTarget, session: SessionID?, _ reply: ErrorReply) {
        if let remote = RemoteConnection.parse(target.connection) {
            cluster?.sendToEdge(slot: remote.slot, .signInRefused(connection: remote.edge), epoch: target.epoch)
        } else {
            resetSignIn(target.connection)
        }
        self.reply(target, ReplyEncoder.error(id: target.requestID, reply))
    }

    /// A local connection's sign-in or resume crossed to its home on another node. A home
    /// that re-places drops what it had not applied, and an edge learns of that only if
    /// it re-places too; so, unanswered a whole sign-in allowance after this, the
    /// connection closes with 1012 and the client signs in again. The allowance starts
    /// here, not at the op: the edge's own checks (storage, behind every node's write
    /// lock in a storm) may take longer than it, and are not lost.
    func awaitHome(_ connection: ConnectionID) {
        guard RemoteConnection.parse(connection) == nil else { return }
        server.execute(on: connection) { [self] loop in
            handler(of: connection).armSignInDeadline(connection, signingIn: true, on: loop)
        }
    }

    /// A local connection's sign-in failed: it may sign in again, with a fresh allowance.
    func resetSignIn(_ connection: ConnectionID) {
        server.execute(on: connection) { [self] loop in
            handler(of: connection).signInFailed(connection, on: loop)
        }
    }

    /// Answers a client's op `overloaded` (a full mailbox: a presence shard's, the
    /// account workers' or the storage writer's); nothing of it was done.
    func refuseOverloaded(_ target: ReplyTarget) {
        reply(target, ReplyEncoder.error(id: target.requestID, overloadedReply()))
    }

    /// The `overloaded` refusal, counted (`presence_overloaded_total`).
    func overloadedReply() -> ErrorReply {
        metrics.overloaded.increment()
        return ErrorReply(WireError.overloaded)
    }

    /// Runs `work` in the next group commit; failures are logged, never lost silently.
    /// Called by a presence shard's thread with what its core already did (and may have
    /// told clients), so a full writer is waited out, never refused: the wait fills that
    /// shard's own mailbox, whose client ops are then refused `overloaded` at the edge.
    func write(_ work: @escaping @Sendable (Database) throws -> Void) {
        writer.submitWaitingForRoom(work) { [log] result in
            if case .failure(let error) = result { log.error("storage write failed", metadata: ["error": "\(error)"]) }
        }
    }

    /// Stores a chat message; `done` runs after its COMMIT (on the writer thread), or at
    /// once with `StorageError.writerFull` when the writer's mailbox is full (the sender
    /// is answered `storage_failed` and may send it again).
    /// - Parameter sentAt: the wall-clock time of `message.sentAt` (a monotonic instant).
    func commitMessage(_ message: OutgoingMessage, sentAt: Instant, done: @escaping @Sendable (Result<Int64, any Error>) -> Void) {
        writer.submit({ db in
            try MessageStore(db).append(sender: message.sender.email, recipient: message.recipient.email,
                                        clientMessageID: message.clientMessageID, body: message.body,
                                        at: sentAt.milliseconds).id
        }, completion: done)
    }

    /// Never refused: the core sends one notice per recipient's offline period, so their
    /// number is bounded by the accounts (see `WorkerPool.submit`).
    func queueOfflineMail(_ mail: OfflineMail) {
        accounts.submit { [log] worker in
            do {
                _ = try worker.service.queueOfflineMessageNotice(recipientID: mail.recipient.email, senderID: mail.firstSender.email)
            } catch {
                log.error("offline mail not queued", metadata: ["error": "\(error)"])
            }
        }
    }
}

extension GatewayConfiguration {
    /// Where the durable state lives: the PostgreSQL database if one is named, else the SQLite file.
    var storageLocation: StorageLocation { databaseURL.map { .postgres(url: $0) } ?? .sqlite(path: databasePath) }
}
