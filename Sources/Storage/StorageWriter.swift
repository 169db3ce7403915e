import Foundation
import Synchronization

/// The single writer of the database: a dedicated thread that takes write jobs from a
/// queue and runs as many as are waiting (up to `maxBatchSize`) in one transaction:
/// group commit.
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
public final class StorageWriter: Sendable {
    /// One submitted job. `run` executes it inside the batch and returns the call that
    /// completes it once the batch's fate is known; `fail` completes it without running.
    private struct Job: Sendable {
        let run: @Sendable (Database) -> @Sendable ((any Error)?) -> Void
        let fail: @Sendable (any Error) -> Void
    }

    private struct State {
        var jobs: [Job] = []
        var isWriterWaiting = false
        var isClosed = false
    }

    /// Moves the connection to the writer thread. Safe because the initializer hands it
    /// over and keeps no reference: from then on only the writer thread touches it.
    private final class ConnectionTransfer: @unchecked Sendable {
        let database: Database
        init(_ database: Database) { self.database = database }
    }

    /// The writer connection's SQLite page cache (64 MiB): it is filled only as pages are read.
    static let cacheKibibytes = 65_536
    /// After this long without a job, the writer gives its page cache back to the heap
    /// (`PRAGMA shrink_memory`): a sign-in storm fills it with the whole contact graph
    /// (~50 MB at 10,000 users x 50 contacts, 5 KB per session), which an idle server does
    /// not need to keep; the next storm reads it in again.
    static let idleSecondsBeforeShrink = 10

    /// The most jobs one transaction takes; bounds the latency of the first job of a batch.
    public let maxBatchSize: Int
    private let state = Mutex(State())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)
    private let batches = Atomic<Int>(0)
    /// Called on the writer thread after each batch's transaction ends, with the time it
    /// took (BEGIN through COMMIT, jobs included) and its job count: the commit-latency metric.
    private let onBatchCommitted: (@Sendable (Duration, Int) -> Void)?

    /// Opens its own connection to the SQLite file at `path`; see `init(location:…)`.
    public convenience init(path: String, maxBatchSize: Int = 1_000,
                            onBatchCommitted: (@Sendable (Duration, Int) -> Void)? = nil) throws {
        try self.init(location: .sqlite(path: path), maxBatchSize: maxBatchSize, onBatchCommitted: onBatchCommitted)
    }

    /// Opens its own connection to `location` (migrating it) and starts the writer thread.
    /// On PostgreSQL a batch is one transaction too, and a failed COMMIT (the server went
    /// away, or refused it) fails every job of the batch: no job is acknowledged that
    /// PostgreSQL did not confirm.
    /// - Parameter onBatchCommitted: optional observer of each batch (duration, jobs); keep it cheap.
    public init(location: StorageLocation, maxBatchSize: Int = 1_000,
                onBatchCommitted: (@Sendable (Duration, Int) -> Void)? = nil) throws {
        self.maxBatchSize = max(1, maxBatchSize)
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
        let thread = Thread { [self] in self.runLoop(transfer.database) }
        thread.name = "storage-writer"
        thread.start()
    }

    /// The number of transactions committed (or attempted) so far; with `jobsSubmitted`
    /// it shows how well writes are being batched.
    public var batchCount: Int { batches.load(ordering: .relaxed) }

    /// Queues a write job.
    /// - Parameters:
    ///   - work: runs on the writer thread inside the batch transaction; throwing undoes
    ///     its changes only.
    ///   - completion: called exactly once, on the writer thread, after the batch
    ///     committed: `.success` with the job's value, or `.failure` with the job's
    ///     error, the COMMIT's error, or `StorageError.writerClosed`.
    public func submit<T: Sendable>(
        _ work: @escaping @Sendable (Database) throws -> T,
        completion: @escaping @Sendable (Result<T, any Error>) -> Void
    ) {
        let job = Job(
            run: { database in
                do {
                    let value = try database.transaction { try work(database) }
                    return { commitError in completion(commitError.map { .failure($0) } ?? .success(value)) }
                } catch {
                    return { _ in completion(.failure(error)) }
                }
            },
            fail: { completion(.failure($0)) })
        let (accepted, mustWake) = state.withLock { state -> (Bool, Bool) in
            if state.isClosed { return (false, false) }
            state.jobs.append(job)
            let mustWake = state.isWriterWaiting
            state.isWriterWaiting = false
            return (true, mustWake)
        }
        if !accepted { job.fail(StorageError.writerClosed) }
        if mustWake { wakeUp.signal() }
    }

    /// Submits a job and blocks the calling thread until it committed.
    /// For worker threads and tests; an event loop must use `submit` instead.
    public func perform<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<T, any Error>?>(nil)
        submit(work) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    /// Stops accepting jobs, runs every job already queued, and waits for the thread to end.
    public func close() {
        let mustWake = state.withLock { state -> Bool in
            if state.isClosed { return false }
            state.isClosed = true
            let mustWake = state.isWriterWaiting
            state.isWriterWaiting = false
            return mustWake
        }
        if mustWake { wakeUp.signal() }
        exited.wait()
        exited.signal()  // a second close() returns at once
    }

    // MARK: - The writer thread

    private func runLoop(_ database: Database) {
        var hasCache = false
        while let batch = nextBatch(idleWake: hasCache) {
            guard !batch.isEmpty else {
                // Idle since the last batch: give the page cache back.
                if database.engine == .sqlite { try? database.execute("PRAGMA shrink_memory") }
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
        }
        exited.signal()
    }

    /// Blocks until jobs are queued; nil once closed and drained. With `idleWake`, an
    /// empty batch after `idleSecondsBeforeShrink` without a job.
    private func nextBatch(idleWake: Bool) -> [Job]? {
        while true {
            let taken = state.withLock { state -> [Job]?? in
                if !state.jobs.isEmpty {
                    let count = min(state.jobs.count, maxBatchSize)
                    let batch = Array(state.jobs.prefix(count))
                    state.jobs.removeFirst(count)
                    return .some(batch)
                }
                if state.isClosed { return .some(nil) }
                state.isWriterWaiting = true
                return .none
            }
            if let taken { return taken }
            if idleWake {
                // A signal that races the timeout stays counted: the next wait returns at once.
                if wakeUp.wait(timeout: .now() + .seconds(Self.idleSecondsBeforeShrink)) == .timedOut { return [] }
            } else {
                wakeUp.wait()
            }
        }
    }
}
