import CPosix
import Foundation
import Mailboxes
import Synchronization

/// A few threads for blocking work (scrypt, SQLite reads, mail) that must never run on an
/// event loop or on the presence thread. Each thread owns a context made on that thread
/// (an `AccountService` with its own database connection), so jobs need no locks.
///
/// Jobs wait in one bounded `Mailbox`. The threads take turns being its one consumer
/// (`consumerTurn`) and take one job at a time, so the next job goes to whichever thread
/// is free first, as with a shared queue.
///
/// - `offer(_:)` refuses a job past `capacity` waiting ones: the gateway answers
///   `overloaded`. Every client request uses it (sign-ins, account ops, sign-up and reset).
/// - `submit(_:)` never refuses: for jobs whose number is bounded by earlier admission
///   (a device token's revocation, one per session that logs out; one offline-mail notice
///   per recipient's offline period), which a refusal would lose.
///
/// `@unchecked Sendable`: `mailbox` is thread-safe, `consumerTurn` is a lock, and
/// `finished` is only entered in `init` and waited on in `stop`.
final class WorkerPool<Context>: @unchecked Sendable {
    typealias Job = @Sendable (Context) -> Void

    private let mailbox: Mailbox<Job>
    /// Held by the thread that is the mailbox's consumer now (asleep in `receive`).
    private let consumerTurn = Mutex(())
    private let finished = DispatchGroup()

    /// - Parameters:
    ///   - capacity: jobs that may wait before `offer` refuses (the account workers':
    ///     `GatewayConfiguration.accountQueueCapacity`).
    ///   - makeContext: called once on each worker thread.
    init(name: String, threads: Int, capacity: Int,
         makeContext: @escaping @Sendable () throws -> Context) throws {
        mailbox = Mailbox(capacity: capacity)
        // Make one context up front so a bad database path fails at start-up, not later.
        _ = try makeContext()
        for i in 0..<threads {
            finished.enter()
            let t = Thread { [self] in
                defer { finished.leave() }
                _ = cposix_name_this_thread("\(name)-\(i)")
                guard let context = try? makeContext() else { return }
                run(context)
            }
            t.name = "\(name)-\(i)"
            t.start()
        }
    }

    /// Whether `offer` would take a job now (stale as soon as it returns; tests read it).
    var hasRoom: Bool { mailbox.hasRoom }

    /// Jobs waiting now (a gauge).
    var backlog: Int { mailbox.count }

    /// Queues `job`, or refuses it when `capacity` jobs already wait (or after `stop`).
    /// Never blocks.
    /// - Returns: whether the job was queued; the caller answers a refusal `overloaded`.
    func offer(_ job: @escaping Job) -> Bool {
        (try? mailbox.post(job)) != nil
    }

    /// Queues `job` whatever the count: only for jobs bounded by earlier admission (see
    /// the type's comment). Dropped after `stop`.
    func submit(_ job: @escaping Job) {
        mailbox.postAdmitted(job)
    }

    /// Finishes queued jobs, then stops the threads.
    func stop() {
        mailbox.close()
        _ = finished.wait(timeout: .now() + 10)
    }

    private func run(_ context: Context) {
        var batch: [Job] = []
        while true {
            let isOpen = consumerTurn.withLock { _ in
                mailbox.receive(into: &batch, atMost: 1, timeoutMilliseconds: -1)
            }
            for job in batch { job(context) }
            batch.removeAll()
            if !isOpen { return }
        }
    }
}
