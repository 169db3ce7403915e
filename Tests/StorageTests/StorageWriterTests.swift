import Foundation
import Synchronization
import XCTest
@testable import Storage

final class StorageWriterTests: XCTestCase {
    let directory = TemporaryDirectory()
    var path: String { directory.path("db.sqlite") }

    override func setUpWithError() throws {
        let database = try Database(path: path)
        for id in ["a@x.org", "b@x.org"] { try AccountStore(database).insert(.sample(id)) }
    }

    func testThousandConcurrentSubmissionsAllCommitAndCompleteOnce() throws {
        let writer = try StorageWriter(path: path)
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
        let reader = try Database(path: path)
        XCTAssertEqual(try reader.queryFirst("SELECT count(*) FROM messages") { $0.int(0) }, 1_000)
        XCTAssertLessThan(writer.batchCount, 1_000, "jobs were grouped into fewer transactions")
        print("StorageWriter: 1000 jobs in \(writer.batchCount) transactions")
    }

    func testCompletionRunsOnlyAfterCommitIsVisibleToOtherConnections() throws {
        let writer = try StorageWriter(path: path)
        defer { writer.close() }
        let seenByOtherConnection = Mutex<Int?>(nil)
        let done = DispatchSemaphore(value: 0)
        let path = self.path
        writer.submit({ database in
            try MessageStore(database).append(sender: "a@x.org", recipient: "b@x.org", clientMessageID: "c", body: "x", at: 1).id
        }, completion: { _ in
            let reader = try? Database(path: path, migrate: false)
            let count = try? reader?.queryFirst("SELECT count(*) FROM messages") { $0.int(0) }
            seenByOtherConnection.withLock { $0 = count ?? nil }
            done.signal()
        })
        done.wait()
        XCTAssertEqual(seenByOtherConnection.withLock { $0 }, 1)
    }

    func testFailingJobDoesNotUndoItsBatchMates() throws {
        let writer = try StorageWriter(path: path)
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

    func testClosedWriterFailsNewJobsWithWriterClosed() throws {
        let writer = try StorageWriter(path: path)
        writer.close()
        XCTAssertThrowsError(try writer.perform { _ in 1 }) { error in
            XCTAssertEqual(error as? StorageError, .writerClosed)
        }
    }
}
