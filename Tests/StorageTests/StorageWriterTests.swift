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
}
