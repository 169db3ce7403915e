import Foundation
import Synchronization
import XCTest
@testable import Storage
import StorageTestSupport

final class StorageWriterTests: XCTestCase {
    let directory = TemporaryDirectory()
    var path: String { directory.path("db.sqlite") }

    override func setUpWithError() throws {
        let database = try Database(location: TestStorage.location(path))
        for id in ["a@x.org", "b@x.org"] { try AccountStore(database).insert(.sample(id)) }
    }

    func testThousandConcurrentSubmissionsAllCommitAndCompleteOnce() throws {
        let writer = try StorageWriter(location: TestStorage.location(path))
        let threadCount = 8, perThread = 125
        let completions = Mutex<[Int: Int]>([:])
        let allDone = DispatchSemaphore(value: 0)
        let started = DispatchGroup()
        for t in 0..<threadCount {
            started.enter()
            let thread = Thread {
                for i in 0..<perThread {
                    let n = t * perThread + i
                    writer.submit({ database in
                        try MessageStore(database).append(
                            sender: "a@x.org", recipient: "b@x.org", clientMessageID: "\(n)", body: "m\(n)", at: Int64(n)).id
                    }, completion: { result in
                        XCTAssertNotNil(try? result.get())
                        let total = completions.withLock { counts -> Int in
                            counts[n, default: 0] += 1
                            return counts.count
                        }
                        if total == threadCount * perThread { allDone.signal() }
                    })
                }
                started.leave()
            }
            thread.start()
        }
        started.wait()
        XCTAssertEqual(allDone.wait(timeout: .now() + 60), .success)
        writer.close()

        let counts = completions.withLock { $0 }
        XCTAssertEqual(counts.count, 1_000)
        XCTAssertTrue(counts.values.allSatisfy { $0 == 1 }, "each completion exactly once")
        let reader = try Database(location: TestStorage.location(path))
        XCTAssertEqual(try reader.queryFirst("SELECT count(*) FROM messages") { $0.int(0) }, 1_000)
        XCTAssertLessThan(writer.batchCount, 1_000, "jobs were grouped into fewer transactions")
        print("StorageWriter: 1000 jobs in \(writer.batchCount) transactions")
    }

    func testCompletionRunsOnlyAfterCommitIsVisibleToOtherConnections() throws {
        let writer = try StorageWriter(location: TestStorage.location(path))
        defer { writer.close() }
        let seenByOtherConnection = Mutex<Int?>(nil)
        let done = DispatchSemaphore(value: 0)
        let path = self.path
        writer.submit({ database in
            try MessageStore(database).append(sender: "a@x.org", recipient: "b@x.org", clientMessageID: "c", body: "x", at: 1).id
        }, completion: { _ in
            let reader = try? Database(location: TestStorage.location(path), migrate: false)
            let count = try? reader?.queryFirst("SELECT count(*) FROM messages") { $0.int(0) }
            seenByOtherConnection.withLock { $0 = count ?? nil }
            done.signal()
        })
        done.wait()
        XCTAssertEqual(seenByOtherConnection.withLock { $0 }, 1)
    }

    func testFailingJobDoesNotUndoItsBatchMates() throws {
        let writer = try StorageWriter(location: TestStorage.location(path))
        defer { writer.close() }
        let results = Mutex<[String: Bool]>([:])
        let group = DispatchGroup()
        for (name, sender) in [("good1", "a@x.org"), ("bad", "ghost@x.org"), ("good2", "b@x.org")] {
            group.enter()
            writer.submit({ database in
                _ = try MessageStore(database).append(sender: sender, recipient: "a@x.org", clientMessageID: name, body: name, at: 1)
            }, completion: { result in
                results.withLock { $0[name] = (try? result.get()) != nil }
                group.leave()
            })
        }
        group.wait()
        XCTAssertEqual(results.withLock { $0 }, ["good1": true, "bad": false, "good2": true])
        let bodies = try writer.perform { database in try database.query("SELECT body FROM messages ORDER BY id") { $0.text(0) } }
        XCTAssertEqual(bodies, ["good1", "good2"])
    }

    func testACommitThatFailsFailsEveryJobOfItsBatch() throws {
        // A deferred foreign key is checked at COMMIT, after every job's savepoint was
        // released: the one way to make the batch's COMMIT itself fail on both engines.
        let setup = try Database(location: TestStorage.location(path))
        try setup.executeScript("""
            CREATE TABLE parent (id BIGINT PRIMARY KEY);
            CREATE TABLE child (parent_id BIGINT REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)
            """)
        let writer = try StorageWriter(location: TestStorage.location(path))
        defer { writer.close() }
        func batch(withParent: Bool) -> [String: Bool] {
            let results = Mutex<[String: Bool]>([:])
            let group = DispatchGroup()
            // Hold the writer on a first job so the next two share one batch. They are
            // submitted only once it runs: submitted sooner, the first of them could join
            // the held job's batch (a writer slow to wake takes all that is queued), which
            // commits, and the test failed under load.
            let gate = DispatchSemaphore(value: 0)
            let holding = DispatchSemaphore(value: 0)
            group.enter()
            writer.submit({ _ in holding.signal(); gate.wait() }, completion: { _ in group.leave() })
            holding.wait()
            let jobs: [(String, @Sendable (Database) throws -> Void)] = [
                ("message", { try MessageStore($0).append(sender: "a@x.org", recipient: "b@x.org",
                                                          clientMessageID: "m\(withParent)", body: "x", at: 1) }),
                ("child", { database in
                    if withParent { try database.execute("INSERT INTO parent VALUES (7)") }
                    try database.execute("INSERT INTO child VALUES (7)")
                }),
            ]
            for (name, work) in jobs {
                group.enter()
                writer.submit({ try work($0) }, completion: { result in
                    results.withLock { $0[name] = (try? result.get()) != nil }
                    group.leave()
                })
            }
            gate.signal()
            group.wait()
            return results.withLock { $0 }
        }
        XCTAssertEqual(batch(withParent: false), ["message": false, "child": false], "no job of a failed COMMIT succeeds")
        XCTAssertEqual(try setup.queryFirst("SELECT count(*) FROM messages") { $0.int(0) }, 0, "and nothing of it is stored")
        // Control: the same batch with the parent row commits, and both jobs say so.
        XCTAssertEqual(batch(withParent: true), ["message": true, "child": true])
        XCTAssertEqual(try setup.queryFirst("SELECT count(*) FROM messages") { $0.int(0) }, 1)
    }

    /// PostgreSQL drops the writer's connection in the middle of a batch (it restarted, or
    /// an operator ended the backend): every job of the batch fails and none of it is
    /// stored. In particular no statement of a later job may run on a new connection
    /// outside the transaction, where it would commit on its own and be acknowledged with
    /// its batch failed. The next batch, on a new connection, commits.
    func testAConnectionDroppedMidBatchFailsTheBatchAndNothingAutocommits() throws {
        guard TestStorage.engine == .postgres else { throw XCTSkip("PostgreSQL only: SQLite has no server to drop the connection") }
        let location = try TestStorage.location(path)
        let writer = try StorageWriter(location: location)
        defer { writer.close() }
        let admin = try Database(location: location, migrate: false)
        let results = Mutex<[String: Bool]>([:])
        let group = DispatchGroup()
        // A first job holds the writer, so the next three are queued and share one batch.
        let released = DispatchSemaphore(value: 0)
        let holdingFirst = DispatchSemaphore(value: 0)
        writer.submit({ _ in holdingFirst.signal(); released.wait() }, completion: { _ in })
        holdingFirst.wait()
        let gate = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        func submit(_ name: String, _ extra: @escaping @Sendable () -> Void = {}) {
            group.enter()
            writer.submit({ database in
                try MessageStore(database).append(sender: "a@x.org", recipient: "b@x.org", clientMessageID: name, body: "x", at: 2)
                extra()
            }, completion: { result in
                results.withLock { $0[name] = (try? result.get()) != nil }
                group.leave()
            })
        }
        // The gate job writes, then waits inside the batch while the connection is dropped.
        submit("gate") { holding.signal(); gate.wait() }
        submit("after1")
        submit("after2")
        released.signal()
        holding.wait()
        // Every other backend of this database goes: the writer's, mid-transaction.
        _ = try admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()") { $0.int(0) }
        gate.signal()
        group.wait()
        XCTAssertEqual(results.withLock { $0 }, ["gate": false, "after1": false, "after2": false], "no job of the dropped batch succeeds")
        XCTAssertEqual(try admin.queryFirst("SELECT count(*) FROM messages") { $0.int(0) }, 0, "nothing of it is stored")
        // Control: the writer reconnects for its next batch, which commits.
        XCTAssertNoThrow(try writer.perform { database in
            try MessageStore(database).append(sender: "a@x.org", recipient: "b@x.org", clientMessageID: "later", body: "x", at: 3)
        })
        XCTAssertEqual(try admin.queryFirst("SELECT count(*) FROM messages") { $0.int(0) }, 1)
    }

    func testClosedWriterFailsNewJobsWithWriterClosed() throws {
        let writer = try StorageWriter(location: TestStorage.location(path))
        writer.close()
        XCTAssertThrowsError(try writer.perform { _ in 1 }) { error in
            XCTAssertEqual(error as? StorageError, .writerClosed)
        }
    }

    /// Holds the writer inside a first job, so what is submitted next waits in its mailbox.
    /// - Returns: the call that lets the held job finish.
    private func hold(_ writer: StorageWriter) -> @Sendable () -> Void {
        let gate = DispatchSemaphore(value: 0)
        let holding = DispatchSemaphore(value: 0)
        writer.submit({ _ in holding.signal(); gate.wait() }, completion: { _ in })
        holding.wait()
        return { gate.signal() }
    }

    private static func append(_ clientMessageID: String) -> @Sendable (Database) throws -> Int64 {
        { database in
            try MessageStore(database).append(sender: "a@x.org", recipient: "b@x.org", clientMessageID: clientMessageID,
                                              body: clientMessageID, at: 1).id
        }
    }

    func testAFullWriterRefusesAJobAtOnceWithWriterFullAndTakesTheSameJobOnceThereIsRoom() throws {
        let writer = try StorageWriter(location: TestStorage.location(path), capacity: 2)
        defer { writer.close() }
        XCTAssertEqual(writer.capacity, 2)
        let release = hold(writer)
        let queued = DispatchGroup()
        for name in ["q1", "q2"] {
            queued.enter()
            writer.submit(Self.append(name), completion: { result in
                XCTAssertNotNil(try? result.get(), "a queued job commits")
                queued.leave()
            })
        }
        // The third waits for nothing: it is refused before `submit` returns, on this thread.
        let refusal = Mutex<(any Error)?>(nil)
        let submitter = pthread_self()
        writer.submit(Self.append("refused"), completion: { result in
            XCTAssertNotEqual(pthread_equal(pthread_self(), submitter), 0, "a refusal completes on the submitting thread")
            if case .failure(let error) = result { refusal.withLock { $0 = error } }
        })
        XCTAssertEqual(refusal.withLock { $0 } as? StorageError, .writerFull)
        release()
        XCTAssertEqual(queued.wait(timeout: .now() + 30), .success)
        // Positive control: the same job, submitted again with room, commits.
        XCTAssertNoThrow(try writer.perform(Self.append("refused")))
        let reader = try Database(location: TestStorage.location(path), migrate: false)
        XCTAssertEqual(try reader.query("SELECT body FROM messages ORDER BY id") { $0.text(0) }, ["q1", "q2", "refused"],
                       "the refused job did nothing until it was submitted again")
    }

    /// Eight threads submit past a small capacity, each retrying a refused job before its
    /// next: every job commits once, and each thread's jobs commit and complete in the
    /// order it submitted them.
    func testConcurrentProducersPastTheCapacityLoseNothingAndKeepTheirOrder() throws {
        let writer = try StorageWriter(location: TestStorage.location(path), maxBatchSize: 16, capacity: 8)
        let producers = 8, perProducer = 150
        let completed = Mutex<[[Int]]>(Array(repeating: [], count: producers))
        let refusals = Atomic<Int>(0)
        let finished = DispatchGroup()
        for p in 0..<producers {
            finished.enter()
            Thread {
                for n in 0..<perProducer {
                    while true {
                        let wasRefused = Mutex(false)
                        writer.submit(Self.append("\(p).\(n)"), completion: { result in
                            switch result {
                            case .success: completed.withLock { $0[p].append(n) }
                            case .failure(StorageError.writerFull): wasRefused.withLock { $0 = true }
                            case .failure(let error): XCTFail("job \(p).\(n): \(error)")
                            }
                        })
                        // A refusal completes before `submit` returns (see the test above).
                        guard wasRefused.withLock({ $0 }) else { break }
                        refusals.add(1, ordering: .relaxed)
                        usleep(200)
                    }
                }
                finished.leave()
            }.start()
        }
        XCTAssertEqual(finished.wait(timeout: .now() + 120), .success)
        writer.close()  // runs every queued job first
        let expected = Array(0..<perProducer)
        XCTAssertEqual(completed.withLock { $0 }, Array(repeating: expected, count: producers), "once each, in submission order")
        XCTAssertGreaterThan(refusals.load(ordering: .relaxed), 0, "the capacity was reached (the refusals were seen)")
        let reader = try Database(location: TestStorage.location(path), migrate: false)
        let stored = try reader.query("SELECT client_message_id FROM messages ORDER BY id") { $0.text(0) }
        XCTAssertEqual(stored.count, producers * perProducer)
        for p in 0..<producers {
            XCTAssertEqual(stored.filter { $0.hasPrefix("\(p).") }, expected.map { "\(p).\($0)" }, "producer \(p)'s rows in its order")
        }
        print("StorageWriter: \(producers * perProducer) jobs through capacity 8, \(refusals.load(ordering: .relaxed)) refusals retried")
    }

    func testAJobWaitingForRoomIsTakenOnceTheWriterDrains() throws {
        let writer = try StorageWriter(location: TestStorage.location(path), capacity: 1)
        defer { writer.close() }
        let release = hold(writer)
        writer.submit(Self.append("queued"), completion: { _ in })
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Int64, any Error>?>(nil)
        Thread {
            writer.submitWaitingForRoom(Self.append("waited"), completion: { result in
                outcome.withLock { $0 = result }
                done.signal()
            })
        }.start()
        XCTAssertEqual(done.wait(timeout: .now() + 0.3), .timedOut, "neither refused nor run while the writer is full and held")
        release()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertNotNil(try outcome.withLock { $0 }?.get())
    }

    func testCloseRunsTheQueuedJobsAndRefusesLaterOnes() throws {
        let writer = try StorageWriter(location: TestStorage.location(path))
        let release = hold(writer)
        let results = Mutex<[String: Bool]>([:])
        for name in ["before1", "before2"] {
            writer.submit(Self.append(name), completion: { result in results.withLock { $0[name] = (try? result.get()) != nil } })
        }
        let closed = DispatchSemaphore(value: 0)
        Thread {
            writer.close()
            closed.signal()
        }.start()
        // close() waits for the held job and the queued ones; a job after it is refused.
        XCTAssertEqual(closed.wait(timeout: .now() + 0.3), .timedOut)
        var lateError: (any Error)?
        while lateError == nil {
            let refusal = Mutex<(any Error)?>(nil)
            writer.submit(Self.append("late"), completion: { result in
                if case .failure(let error) = result { refusal.withLock { $0 = error } }
            })
            lateError = refusal.withLock { $0 }
            if lateError == nil { usleep(1_000) }  // queued before close(): it commits; try again
        }
        XCTAssertEqual(lateError as? StorageError, .writerClosed)
        release()
        XCTAssertEqual(closed.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(results.withLock { $0 }, ["before1": true, "before2": true])
    }
}
