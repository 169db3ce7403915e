import XCTest
@testable import Storage
import StorageTestSupport

final class DatabaseTests: XCTestCase {
    let directory = TemporaryDirectory()

    func open() throws -> Database { try Database(location: TestStorage.location(directory.path("test.sqlite"))) }

    /// The SQLite-only tests (its pragmas, its dynamic typing, its file errors) skip on
    /// PostgreSQL; PostgresStorageTests covers that engine's counterparts.
    func skipUnlessSQLite(_ why: String) throws {
        try XCTSkipIf(TestStorage.engine != .sqlite, "SQLite only: \(why)")
    }

    func testOpenUsesWALWithFullSynchronousAndForeignKeys() throws {
        try skipUnlessSQLite("pragmas")
        let database = try open()
        XCTAssertEqual(try database.queryFirst("PRAGMA journal_mode") { $0.text(0) }, "wal")
        XCTAssertEqual(try database.queryFirst("PRAGMA synchronous") { $0.int(0) }, 2, "2 = FULL")
        XCTAssertEqual(try database.queryFirst("PRAGMA foreign_keys") { $0.int(0) }, 1)
    }

    func testEveryStorageClassRoundTrips() throws {
        try skipUnlessSQLite("an untyped column and typeof()")
        let database = try open()
        try database.execute("CREATE TABLE t (v BIGINT)")
        let table: [SQLiteValue] = [
            .null, .integer(0), .integer(Int64.min), .integer(Int64.max), .real(2.5),
            .text(""), .text("Zoë 😀 \u{0}inside"), .blob([]), .blob([0, 1, 255]),
        ]
        for value in table {
            try database.execute("DELETE FROM t")
            try database.execute("INSERT INTO t VALUES (?)", value)
            let back = try database.queryFirst("SELECT v, typeof(v) FROM t") { row -> SQLiteValue in
                switch row.text(1) {
                case "null": return .null
                case "integer": return .integer(row.int64(0))
                case "real": return .real(row.double(0))
                case "text": return .text(row.text(0))
                default: return .blob(row.blob(0))
                }
            }
            XCTAssertEqual(back, value)
        }
    }

    func testOptionalAndBoolBindAsNullAndInteger() throws {
        let database = try open()
        try database.execute("CREATE TABLE t (a TEXT, b BIGINT)")
        let missing: String? = nil
        try database.execute("INSERT INTO t VALUES (?, ?)", missing, true)
        let row = try database.queryFirst("SELECT a, b FROM t") { ($0.optionalText(0), $0.bool(1)) }
        XCTAssertNil(row?.0)
        XCTAssertEqual(row?.1, true)
    }

    func testTransactionRollsBackWhenBodyThrows() throws {
        struct Boom: Error {}
        let database = try open()
        try database.execute("CREATE TABLE t (v BIGINT)")
        XCTAssertThrowsError(try database.transaction {
            try database.execute("INSERT INTO t VALUES (1)")
            throw Boom()
        })
        XCTAssertEqual(try database.queryFirst("SELECT count(*) FROM t") { $0.int(0) }, 0)
        XCTAssertFalse(database.isInTransaction)
    }

    func testNestedTransactionFailureUndoesOnlyInnerWork() throws {
        struct Boom: Error {}
        let database = try open()
        try database.execute("CREATE TABLE t (v BIGINT)")
        try database.transaction {
            try database.execute("INSERT INTO t VALUES (1)")
            _ = try? database.transaction {
                try database.execute("INSERT INTO t VALUES (2)")
                throw Boom()
            }
            try database.execute("INSERT INTO t VALUES (3)")
        }
        XCTAssertEqual(try database.query("SELECT v FROM t ORDER BY v") { $0.int(0) }, [1, 3])
    }

    func testSameStatementUsedInsideItsOwnRowLoopStillWorks() throws {
        let database = try open()
        try database.execute("CREATE TABLE t (v BIGINT)")
        for v in 1...3 { try database.execute("INSERT INTO t VALUES (?)", v) }
        let sql = "SELECT v FROM t WHERE v >= ? ORDER BY v"
        let pairs = try database.query(sql, 1) { row in
            (row.int(0), try database.query(sql, row.int(0)) { $0.int(0) }.count)
        }
        XCTAssertEqual(pairs.map(\.0), [1, 2, 3])
        XCTAssertEqual(pairs.map(\.1), [3, 2, 1])
    }

    func testConstraintViolationIsRecognised() throws {
        let database = try open()
        try database.execute("CREATE TABLE t (v BIGINT UNIQUE)")
        try database.execute("INSERT INTO t VALUES (1)")
        XCTAssertThrowsError(try database.execute("INSERT INTO t VALUES (1)")) { error in
            XCTAssertEqual((error as? StorageError)?.isConstraintViolation, true)
        }
    }

    func testUnopenablePathFailsWithCannotOpen() throws {
        try skipUnlessSQLite("a file path")
        XCTAssertThrowsError(try Database(path: directory.path("missing-dir/x.sqlite"))) { error in
            guard case .cannotOpen = error as? StorageError else { return XCTFail("\(error)") }
        }
    }
}
