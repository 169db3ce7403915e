import Foundation
import Synchronization

/// A few threads for blocking work (scrypt, SQLite reads, mail) that must never run on an
/// event loop or on the presence thread. Each thread owns a context made on that thread
/// (an `AccountService` with its own database connection), so jobs need no locks.
///
/// `@unchecked Sendable`: the only shared state is `queue`, guarded by a `Mutex`, and the
/// condition that signals it.
final class WorkerPool<Context>: @unchecked Sendable {
    typealias Job = @Sendable (Context) -> Void

    private let queue = Mutex<(jobs: [Job], isStopping: Bool)>(([], false))
    private let condition = NSCondition()
    private let finished = DispatchGroup()

    /// - Parameter makeContext: called once on each worker thread.
    init(name: String, threads: Int, makeContext: @escaping @Sendable () throws -> Context) throws {
        // Make one context up front so a bad database path fails at start-up, not later.
        _ = try makeContext()
        for i in 0..<threads {
            finished.enter()
            let t = Thread { [self] in
                defer { finished.leave() }
                guard let context = try? makeContext() else { return }
                run(context)
            }
            t.name = "\(name)-\(i)"
            t.start()
        }
    }

    func submit(_ job: @escaping Job) {
        queue.withLock { $0.jobs.append(job) }
        condition.lock()
        condition.signal()
        condition.unlock()
    }

    /// Finishes queued jobs, then stops the threads.
    func stop() {
        queue.withLock { $0.isStopping = true }
        condition.lock()
        condition.broadcast()
        condition.unlock()
        _ = finished.wait(timeout: .now() + 10)
    }

    private func run(_ context: Context) {
        while true {
            let next: Job?? = queue.withLock { q in
                if !q.jobs.isEmpty { return q.jobs.removeFirst() }
                return q.isStopping ? .some(nil) : nil
            }
            switch next {
            case .some(.some(let job)):
                job(context)
            case .some(.none):
                return
            case .none:
                condition.lock()
                if queue.withLock({ $0.jobs.isEmpty && !$0.isStopping }) { condition.wait(until: Date() + 1) }
                condition.unlock()
            }
        }
    }
}
