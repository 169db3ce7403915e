import Foundation
import Synchronization
import XCTest
@testable import Storage
import StorageTestSupport

/// What only the PostgreSQL backend has to get right: its types through text and binary
/// parameters, text it cannot store, the `?` → `$n` rewrite, the COMMIT that PostgreSQL
/// answers with ROLLBACK, the shared write lock, and reconnecting after the server
/// dropped the connection. Skipped (with that note) without `PRESENCE_TEST_DATABASE_URL`.
final class PostgresStorageTests: XCTestCase {
    var location: StorageLocation!

    override func setUpWithError() throws {
        try XCTSkipIf(TestStorage.databaseURL == nil,
                      "PRESENCE_TEST_DATABASE_URL unset: run through scripts/postgres.sh for the PostgreSQL tests")
        location = try TestStorage.freshPostgresSchema()
    }

    func testValuesOfEveryTypeRoundTrip() throws {
        let database = try Database(location: location, migrate: false)
        try database.execute("CREATE TABLE t (i BIGINT, r DOUBLE PRECISION, s TEXT, b BYTEA)")
        let rows: [(Int64?, Double?, String?, [UInt8]?)] = [
            (Int64.min, -2.5, "", []),
            (Int64.max, 1e-300, "Zoë 😀 'quoted' ? $1", [0, 1, 255, 92, 120]),
            (nil, nil, nil, nil),
        ]
        for (i, r, s, b) in rows {
            try database.execute("DELETE FROM t")
            try database.execute("INSERT INTO t VALUES (?, ?, ?, ?)", i, r, s, b)
            let back = try XCTUnwrap(database.queryFirst("SELECT i, r, s, b FROM t") { row in
                (row.optionalInt64(0), row.isNull(1) ? nil : row.double(1), row.optionalText(2), row.isNull(3) ? nil : row.blob(3))
            })
            XCTAssertEqual(back.0, i)
            XCTAssertEqual(back.1, r)
            XCTAssertEqual(back.2, s)
            XCTAssertEqual(back.3, b)
        }
    }

    func testTextWithNULIsRefusedNotCut() throws {
        let database = try Database(location: location, migrate: false)
        try database.execute("CREATE TABLE t (s TEXT)")
        XCTAssertThrowsError(try database.execute("INSERT INTO t VALUES (?)", "before\u{0}after")) { error in
            guard case .postgres(let state, _, _) = error as? StorageError else { return XCTFail("\(error)") }
            XCTAssertEqual(state, "22021")
        }
        try database.execute("INSERT INTO t VALUES (?)", "before after")
        XCTAssertEqual(try database.query("SELECT s FROM t") { $0.text(0) }, ["before after"], "only the clean row is stored")
    }

    func testNumberedAndBareParametersMeanWhatTheyMeanInSQLite() throws {
        XCTAssertEqual("SELECT ?, ?, 'a?b', \"c?\" WHERE x = ?".postgresParameters(),
                       "SELECT $1, $2, 'a?b', \"c?\" WHERE x = $3")
        XCTAssertEqual("WHERE (a = ?1 AND b = ?2) OR (a = ?2 AND b = ?1) AND c = ?".postgresParameters(),
                       "WHERE (a = $1 AND b = $2) OR (a = $2 AND b = $1) AND c = $3")
        let database = try Database(location: location, migrate: false)
        XCTAssertEqual(try database.queryFirst("SELECT ?1::bigint + ?2::bigint * 10 + ?1::bigint * 100", 1, 2) { $0.int(0) }, 121)
    }

    func testATransactionWhoseStatementFailedDoesNotReportACommit() throws {
        let database = try Database(location: location, migrate: false)
        try database.execute("CREATE TABLE t (v BIGINT UNIQUE)")
        // The body swallows a failed statement. PostgreSQL then answers COMMIT with
        // ROLLBACK and no error; that must surface as a failure, with nothing stored.
        XCTAssertThrowsError(try database.transaction {
            try database.execute("INSERT INTO t VALUES (1)")
            _ = try? database.execute("INSERT INTO t VALUES (1)")
        })
        XCTAssertEqual(try database.queryFirst("SELECT count(*) FROM t") { $0.int(0) }, 0)
        // Control: the same transaction without the failing statement commits.
        try database.transaction { try database.execute("INSERT INTO t VALUES (1)") }
        XCTAssertEqual(try database.queryFirst("SELECT count(*) FROM t") { $0.int(0) }, 1)
    }

    func testASavepointLevelThatFailsBeforeOrAtItsFirstStatementUndoesOnlyItself() throws {
        // The SAVEPOINT of a level travels with the level's first statement; these are the
        // ways that first statement can fail before, during or after being sent.
        let database = try Database(location: location, migrate: false)
        try database.execute("CREATE TABLE t (v BIGINT UNIQUE, s TEXT)")
        struct Boom: Error {}
        try database.transaction {
            try database.execute("INSERT INTO t VALUES (1, 'kept')")
            _ = try? database.transaction { try database.execute("INSERT INTO t VALUES (2, ?)", "nul\u{0}") }  // refused before sending
            _ = try? database.transaction { try database.execute("SELECT * FROM no_such_table") }  // fails to prepare
            _ = try? database.transaction { try database.execute("INSERT INTO t VALUES (1, 'dup')") }  // fails on the server
            _ = try? database.transaction { () throws -> Void in throw Boom() }  // ran no statement
            _ = try? database.transaction {  // a statement ran, then the body threw
                try database.execute("INSERT INTO t VALUES (3, 'undone')")
                throw Boom()
            }
            try database.transaction { try database.execute("INSERT INTO t VALUES (4, 'kept too')") }
        }
        XCTAssertEqual(try database.query("SELECT v, s FROM t ORDER BY v") { "\($0.int(0)) \($0.text(1))" }, ["1 kept", "4 kept too"])
    }

    func testOutermostTransactionsOnTwoConnectionsRunOneAtATime() throws {
        let first = try Database(location: location)
        let location = self.location!
        let secondCommitted = Atomic<Bool>(false)
        let secondStarted = DispatchSemaphore(value: 0)
        let secondDone = DispatchSemaphore(value: 0)
        try first.transaction {
            let thread = Thread {
                let second = try! Database(location: location, migrate: false)
                secondStarted.signal()
                try! second.transaction { try second.execute("INSERT INTO accounts (id, first_name, last_name, created_at, updated_at) VALUES ('b@x.org', 'B', 'B', 0, 0)") }
                secondCommitted.store(true, ordering: .sequentiallyConsistent)
                secondDone.signal()
            }
            thread.start()
            secondStarted.wait()
            Thread.sleep(forTimeInterval: 0.3)
            XCTAssertFalse(secondCommitted.load(ordering: .sequentiallyConsistent), "the second transaction waits for the first")
        }
        XCTAssertEqual(secondDone.wait(timeout: .now() + 10), .success, "and runs once the first committed")
        XCTAssertEqual(try first.queryFirst("SELECT count(*) FROM accounts") { $0.int(0) }, 1)
    }

    func testAConnectionTheServerDroppedFailsItsOpenBatchThenReconnects() throws {
        let database = try Database(location: location)
        let writer = try StorageWriter(location: location)
        defer { writer.close() }
        try AccountStore(database).insert(AccountRecord(id: "a@x.org", firstName: "A", lastName: "A", passwordHash: nil,
                                                        wantsOfflineEmail: false, googleSubject: nil, createdAt: 0, updatedAt: 0))
        let writerPID = try writer.perform { database in try database.queryFirst("SELECT pg_backend_pid()") { $0.int(0) } ?? 0 }
        let readerPID = try database.queryFirst("SELECT pg_backend_pid()") { $0.int(0) } ?? 0
        let admin = try Database(location: location, migrate: false)

        // The server drops the writer's connection (as a restart does) while a batch is open.
        let entered = DispatchSemaphore(value: 0), proceed = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<Bool, any Error>?>(nil)
        writer.submit({ database in
            let changed = try PresenceStore(database).setChosenStatus(of: "a@x.org", to: "busy")
            entered.signal()
            proceed.wait()
            return changed
        }, completion: { result in
            outcome.withLock { $0 = result }
            done.signal()
        })
        entered.wait()
        XCTAssertEqual(try admin.queryFirst("SELECT pg_terminate_backend(?::int)", writerPID) { $0.bool(0) }, true)
        proceed.signal()
        done.wait()
        XCTAssertThrowsError(try outcome.withLock { $0! }.get(), "the open batch fails: never a false success")
        XCTAssertEqual(try PresenceStore(database).chosenStatus(of: "a@x.org"), "online", "and nothing of it was stored")

        // The next batch reconnects by itself and commits.
        XCTAssertEqual(try writer.perform { try PresenceStore($0).setChosenStatus(of: "a@x.org", to: "hidden") }, true)
        XCTAssertEqual(try PresenceStore(database).chosenStatus(of: "a@x.org"), "hidden")

        // A transaction begun on a connection the server dropped reconnects before it starts.
        XCTAssertEqual(try admin.queryFirst("SELECT pg_terminate_backend(?::int)", readerPID) { $0.bool(0) }, true)
        try database.transaction { XCTAssertEqual(try PresenceStore(database).chosenStatus(of: "a@x.org"), "hidden") }
        let readerAgain = try database.queryFirst("SELECT pg_backend_pid()") { $0.int(0) } ?? 0
        XCTAssertNotEqual(readerAgain, readerPID, "a new server session")
    }
}
