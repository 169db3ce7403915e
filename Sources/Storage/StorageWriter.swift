import CPosix
import Foundation
import Mailboxes
import Synchronization

/// The single writer of the database: a dedicated thread that takes write jobs from a
/// bounded `Mailbox` and runs as many as are waiting (up to `maxBatchSize`) in one
/// transaction: group commit.
///
/// Each job's completion is called only after the COMMIT that made its changes durable
/// (`synchronous=FULL`; PostgreSQL's `synchronous_commit = on`) returned, so "committed before ack" holds: the gateway sends
/// the ack from the completion. One fsync then covers a whole batch, which is how FULL
/// stays fast under load.
///
/// Every job runs inside its own savepoint, so a job that throws undoes only its own
/// changes and the rest of its batch still commits. Completions run on the writer
/// thread, in submission order: keep them short (hand the result to another thread's
/// queue) and never call `close()` from one.
///
/// At most `capacity` jobs wait; past that `submit` refuses a job at once, completing it
/// with `StorageError.writerFull` on the caller's thread, so an overload becomes a clear
/// error at the edge instead of unbounded memory, and an event loop that submits never
/// blocks. A producer that may block and must not lose its job (the presence thread's
/// writes of what the core already did) uses `submitWaitingForRoom`.
public final class StorageWriter: Sendable {
    /// One submitted job. `run` executes it inside the batch and returns the call that
    /// completes it once the batch's fate is known; `fail` completes it without running.
    private struct Job: Sendable {
        let run: @Sendable (Database) -> @Sendable ((any Error)?) -> Void
        let fail: @Sendable (any Error) -> Void
    }

    /// Moves the connection to the writer thread. Safe because the initializer hands it
    /// over and keeps no reference: from then on only the writer thread touches it.
    private final class ConnectionTransfer: @unchecked Sendable {
        let database: Database
        init(_ database: Database) { self.database = database }
    }

    /// The writer connection's SQLite page cache (8 MiB): it is filled only as pages are
    /// read, and a page it does not hold is a `pread` from the kernel's page cache, which
    /// holds the file anyway. It was 64 MiB: a sign-in storm, whose contact lists the writer
    /// reads, then filled it with the whole contact graph (~54 MB at 10,000 users x 50
    /// contacts). Given back when idle, that still cost ~65 B of RSS per signed-in session at
    /// rest (the allocator's metadata and slabs for a 54 MB peak), and the storm was no
    /// faster for it (loadtest/README.md, "The writer's page cache").
    static let cacheKibibytes = 8_192
    /// After this long without a job, the writer gives its page cache back to the heap
    /// (`PRAGMA shrink_memory`): an idle server does not need to keep it; the next storm
    /// reads it in again.
    static let idleSecondsBeforeShrink = 10

    /// Jobs that may wait for the writer before `submit` refuses them (`writerFull`):
    /// 65,536, which legitimate load does not reach. The writer's producers are bounded
    /// upstream: a sign-in storm queues one job per connection, at most 20,000 per process
    /// (its descriptor limit); chats and the core's writes pass the presence thread's own
    /// mailbox (65,536) and each session's op limit first; and the writer takes up to
    /// `maxBatchSize` jobs per transaction, tens of thousands a second. A full mailbox
    /// holds some tens of MiB (a job is two closures and what they captured).
    public static let defaultCapacity = 65_536

    /// The most jobs one transaction takes; bounds the latency of the first job of a batch.
    public let maxBatchSize: Int
    /// The most jobs that wait (see `defaultCapacity`).
    public var capacity: Int { mailbox.capacity }
    private let mailbox: Mailbox<Job>
    private let exited = DispatchSemaphore(value: 0)
    private let batches = Atomic<Int>(0)
    /// Called on the writer thread after each batch's transaction ends, with the time it
    /// took (BEGIN through COMMIT, jobs included) and its job count: the commit-latency metric.
    private let onBatchCommitted: (@Sendable (Duration, Int) -> Void)?
    private let whenIdle: @Sendable () -> Void

    /// Opens its own connection to the SQLite file at `path`; see `init(location:…)`.
    public convenience init(path: String, maxBatchSize: Int = 1_000, capacity: Int = StorageWriter.defaultCapacity,
                            onBatchCommitted: (@Sendable (Duration, Int) -> Void)? = nil) throws {
        try self.init(location: .sqlite(path: path), maxBatchSize: maxBatchSize, capacity: capacity, onBatchCommitted: onBatchCommitted)
    }

    /// Opens its own connection to `location` (migrating it) and starts the writer thread.
    /// On PostgreSQL a batch is one transaction too, and a failed COMMIT (the server went
    /// away, or refused it) fails every job of the batch: no job is acknowledged that
    /// PostgreSQL did not confirm.
    /// - Parameters:
    ///   - capacity: jobs that may wait before `submit` refuses (`writerFull`); tests lower it.
    ///   - onBatchCommitted: optional observer of each batch (duration, jobs); keep it cheap.
    ///   - whenIdle: run on the writer thread when it gives its page cache back after
    ///     `idleSecondsBeforeShrink` without work (the gateway returns the thread's
    ///     allocator cache there too).
    public init(location: StorageLocation, maxBatchSize: Int = 1_000, capacity: Int = StorageWriter.defaultCapacity,
                whenIdle: @escaping @Sendable () -> Void = {},
                onBatchCommitted: (@Sendable (Duration, Int) -> Void)? = nil) throws {
        self.maxBatchSize = max(1, maxBatchSize)
        mailbox = Mailbox(capacity: capacity)
        self.whenIdle = whenIdle
        self.onBatchCommitted = onBatchCommitted
        let database = try Database(location: location)
        if database.engine == .sqlite {
            // The writer also reads what a sign-in needs (its contacts, its device, its
            // backlog: see the gateway's sign-in) because its cache is the one that stays
            // valid across commits. SQLite's default 2 MiB cache held a fraction of the
            // contact graph (10,000 users x 50 contacts: 35 MiB of table and index), so
            // most of a sign-in's pages were read from the file again.
            try database.execute("PRAGMA cache_size = -\(Self.cacheKibibytes)")
        }
        let transfer = ConnectionTransfer(database)
        let thread = Thread { [self] in
            _ = cposix_name_this_thread("storage-writer")
            self.runLoop(transfer.database)
        }
        thread.name = "storage-writer"
        thread.start()
    }

    /// The number of transactions committed (or attempted) so far; with `jobsSubmitted`
    /// it shows how well writes are being batched.
    public var batchCount: Int { batches.load(ordering: .relaxed) }

    /// Queues a write job, or refuses it at once when `capacity` jobs already wait.
    /// Never blocks: safe on an event loop.
    /// - Parameters:
    ///   - work: runs on the writer thread inside the batch transaction; throwing undoes
    ///     its changes only.
    ///   - completion: called exactly once: on the writer thread, after the batch
    ///     committed, with `.success` and the job's value, or `.failure` with the job's
    ///     error or the COMMIT's error; or, for a job refused before it was queued, on the
    ///     calling thread before `submit` returns, with `StorageError.writerFull` or
    ///     `StorageError.writerClosed`.
    public func submit<T: Sendable>(
        _ work: @escaping @Sendable (Database) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let job = Self.job(work, completion: completion)
        do { try mailbox.post(job) } catch { job.fail(Self.storageError(error)) }
    }

    /// Like `submit`, but waits while the writer's mailbox is full instead of refusing
    /// (`writerClosed` is still refused at once). For a thread that may block (never an
    /// event loop) with a job that must not be lost: the presence thread's writes of what
    /// the core already did and told clients.
    public func submitWaitingForRoom<T: Sendable>(
        _ work: @escaping @Sendable (Database) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let job = Self.job(work, completion: completion)
        do { try mailbox.postWaitingForRoom(job) } catch { job.fail(Self.storageError(error)) }
    }

    private static func job<T: Sendable>(
        _ work: @escaping @Sendable (Database) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) -> Job {
        Job(
            run: { database in
                do {
                    let value = try database.transaction { try work(database) }
                    return { commitError in completion(commitError.map { .failure($0) } ?? .success(value)) }
                } catch {
                    return { _ in completion(.failure(error)) }
                }
            },
            fail: { completion(.failure($0)) })
    }

    private static func storageError(_ refusal: MailboxRefusal) -> StorageError {
        switch refusal {
        case .full: .writerFull
        case .closed: .writerClosed
        }
    }

    /// Submits a job and blocks the calling thread until it committed (waiting for room
    /// in a full mailbox, see `submitWaitingForRoom`).
    /// For worker threads and tests; an event loop must use `submit` instead.
    public func perform<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<T, any Error>?>(nil)
        submitWaitingForRoom(work) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    /// Stops accepting jobs, runs every job already queued, and waits for the thread to end.
    public func close() {
        mailbox.close()
        exited.wait()
        exited.signal()  // a second close() returns at once
    }

    // MARK: - The writer thread

    private func runLoop(_ database: Database) {
        var hasCache = false
        var batch: [Job] = []
        while true {
            // With a warm cache, wake after `idleSecondsBeforeShrink` without a job.
            let isOpen = mailbox.receive(into: &batch, atMost: maxBatchSize,
                                         timeoutMilliseconds: hasCache ? Self.idleSecondsBeforeShrink * 1_000 : -1)
            guard !batch.isEmpty else {
                guard isOpen else { break }  // closed and drained
                // Idle since the last batch: give the page cache back.
                if database.engine == .sqlite { _ = try? database.execute("PRAGMA shrink_memory") }
                whenIdle()
                hasCache = false
                continue
            }
            hasCache = true
            batches.add(1, ordering: .relaxed)
            var finishers: [@Sendable ((any Error)?) -> Void] = []
            finishers.reserveCapacity(batch.count)
            let started = ContinuousClock.now
            do {
                try database.transaction {
                    for job in batch { finishers.append(job.run(database)) }
                }
                onBatchCommitted?(ContinuousClock.now - started, batch.count)
                for finish in finishers { finish(nil) }
            } catch {
                // BEGIN or COMMIT failed: nothing of this batch is durable.
                for finish in finishers { finish(error) }
                for job in batch.dropFirst(finishers.count) { job.fail(error) }
            }
            // A storm's array (swapped out of the mailbox) is not kept.
            batch.removeAll(keepingCapacity: batch.capacity <= 1024)
        }
        exited.signal()
    }
}
