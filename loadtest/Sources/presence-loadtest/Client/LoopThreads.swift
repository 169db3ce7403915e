import Glibc

/// Runs client loops on threads of their own, one loop per thread.
enum LoopThreads {
    /// Carries a loop to its thread and its result back.
    ///
    /// `@unchecked Sendable` is safe: the loop is touched only by the thread started for
    /// it, and `result` is read by the starter only after `pthread_join` on that thread,
    /// which orders the memory accesses.
    final class Handoff: @unchecked Sendable {
        let loop: ClientLoop
        var result: LoopResult?
        init(_ loop: ClientLoop) { self.loop = loop }
    }

    /// Starts every loop's `run()` and returns the threads to `join`.
    static func start(_ loops: [ClientLoop]) throws(LoadTestError) -> [(pthread_t, Handoff)] {
        var started: [(pthread_t, Handoff)] = []
        for loop in loops {
            let handoff = Handoff(loop)
            var thread = pthread_t()
            let box = Unmanaged.passRetained(handoff).toOpaque()
            let rc = pthread_create(&thread, nil, { raw in
                let h = Unmanaged<Handoff>.fromOpaque(raw!).takeRetainedValue()
                h.result = h.loop.run()
                return nil
            }, box)
            guard rc == 0 else {
                Unmanaged<Handoff>.fromOpaque(box).release()
                throw .syscallFailed("pthread_create", errno: rc)
            }
            started.append((thread, handoff))
        }
        return started
    }

    static func join(_ threads: [(pthread_t, Handoff)]) -> [LoopResult] {
        threads.map { thread, handoff in
            pthread_join(thread, nil)
            return handoff.result ?? LoopResult()
        }
    }
}
