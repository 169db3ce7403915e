import XCTest
@testable import Storage
import StorageTestSupport

final class SchemaTests: XCTestCase {
    let directory = TemporaryDirectory()

    func testMigrationsAreIdempotentOnReopen() throws {
        let path = directory.path("db.sqlite")
        do {
            let database = try Database(location: TestStorage.location(path))
            XCTAssertEqual(try Schema.version(of: database), Schema.currentVersion)
            try AccountStore(database).insert(.sample("a@example.com"))
        }
        let reopened = try Database(location: TestStorage.location(path))
        XCTAssertEqual(try Schema.version(of: reopened), Schema.currentVersion)
        XCTAssertNotNil(try AccountStore(reopened).find(id: "a@example.com"), "reopen must not rebuild tables")
    }

    func testOnlyMigrationsAboveTheFileVersionRun() throws {
        let path = directory.path("db.sqlite")
        let first = Migration(version: 1, sql: "CREATE TABLE a (x BIGINT);")
        let second = Migration(version: 2, sql: "CREATE TABLE b (x BIGINT);")
        let database = try Database(location: TestStorage.location(path), migrate: false)
        try Schema.migrate(database, migrations: [first])
        try database.execute("INSERT INTO a VALUES (1)")
        // Re-running step 1 would fail ("table a already exists"); it must be skipped.
        try Schema.migrate(database, migrations: [first, second])
        XCTAssertEqual(try Schema.version(of: database), 2)
        XCTAssertEqual(try database.queryFirst("SELECT count(*) FROM b") { $0.int(0) }, 0)
    }

    func testVersion3KeepsTheDeviceTokensOfAVersion2File() throws {
        let database = try Database(location: TestStorage.location(directory.path("db.sqlite")), migrate: false)
        try Schema.migrate(database, migrations: Array(Schema.migrations.prefix(2)))
        try AccountStore(database).insert(.sample("a@example.com"))
        try DeviceTokenStore(database).insert(accountID: "a@example.com", tokenHash: [7], deviceKind: .mobile, at: 0)
        try Schema.migrate(database)
        XCTAssertEqual(try Schema.version(of: database), Schema.currentVersion)
        let tokens = DeviceTokenStore(database)
        XCTAssertNotNil(try tokens.findUsable(tokenHash: [7], at: 1), "a token issued before the upgrade still signs in")
        XCTAssertTrue(try tokens.rotate(from: [7], to: [8], at: 1, graceUntil: 60))
        XCTAssertNotNil(try tokens.findUsable(tokenHash: [7], at: 2))
        XCTAssertEqual(try Schema.integrityProblems(of: database), [])
    }

    func testFailedMigrationLeavesVersionUnchanged() throws {
        let database = try Database(location: TestStorage.location(directory.path("db.sqlite")), migrate: false)
        let broken = Migration(version: 1, sql: "CREATE TABLE a (x BIGINT); CREATE TABLE a (x BIGINT);")
        XCTAssertThrowsError(try Schema.migrate(database, migrations: [broken]))
        XCTAssertEqual(try Schema.version(of: database), 0)
        XCTAssertThrowsError(try database.execute("SELECT count(*) FROM a"), "the step's first table was rolled back too")
        try database.execute("CREATE TABLE c (x BIGINT)")
        XCTAssertEqual(try database.queryFirst("SELECT count(*) FROM c") { $0.int(0) }, 0, "control: a table that exists is found")
    }

    func testFileNewerThanBinaryIsRefused() throws {
        let path = directory.path("db.sqlite")
        do {
            let database = try Database(location: TestStorage.location(path))
            if database.engine == .sqlite {
                try database.execute("PRAGMA user_version = \(Schema.currentVersion + 1)")
            } else {
                try database.execute("UPDATE schema_version SET version = ?", Schema.currentVersion + 1)
            }
        }
        XCTAssertThrowsError(try Database(location: TestStorage.location(path))) { error in
            XCTAssertEqual(error as? StorageError,
                           .schemaTooNew(fileVersion: Schema.currentVersion + 1, knownVersion: Schema.currentVersion))
        }
    }

    func testFreshDatabasePassesIntegrityCheck() throws {
        let database = try Database(location: TestStorage.location(directory.path("db.sqlite")))
        XCTAssertEqual(try Schema.integrityProblems(of: database), [])
    }

    func testForeignKeysRejectRowsForUnknownAccounts() throws {
        let database = try Database(location: TestStorage.location(directory.path("db.sqlite")))
        XCTAssertThrowsError(try DeviceTokenStore(database).insert(
            accountID: "ghost@example.com", tokenHash: [1], deviceKind: .web, at: 0)) { error in
            XCTAssertEqual((error as? StorageError)?.isConstraintViolation, true)
        }
    }

    func testAccountIDMustBeStoredLowercased() throws {
        let database = try Database(location: TestStorage.location(directory.path("db.sqlite")))
        XCTAssertThrowsError(try AccountStore(database).insert(.sample("Mixed@Example.com")))
    }
}

extension AccountRecord {
    static func sample(_ id: String, at now: Int64 = 1_000) -> AccountRecord {
        AccountRecord(id: id, firstName: "First", lastName: "Last", passwordHash: "hash",
                      wantsOfflineEmail: false, googleSubject: nil, createdAt: now, updatedAt: now)
    }
}
