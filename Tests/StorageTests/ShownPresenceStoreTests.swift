import XCTest
@testable import Storage
import StorageTestSupport

final class ShownPresenceStoreTests: XCTestCase {
    let directory = TemporaryDirectory()

    func testRowsAreTakenOnceAndOnlyIfDrainedRecently() throws {
        let database = try Database(location: TestStorage.location(directory.path("db.sqlite")))
        let store = ShownPresenceStore(database)
        let rows = [
            ShownPresenceRow(accountID: "bob@x.io", status: "online", lastSeen: nil),
            ShownPresenceRow(accountID: "dave@x.io", status: "offline", lastSeen: 1_000),
        ]
        try store.replace(with: rows, drainedAt: 5_000)
        XCTAssertEqual(try store.take(drainedSince: 6_000).count, 0, "too old: the grace is over")
        XCTAssertEqual(try store.count(), 0, "stale rows are deleted too")

        try store.replace(with: rows, drainedAt: 5_000)
        let taken = try store.take(drainedSince: 4_000)
        XCTAssertEqual(taken.map(\.row).sorted { $0.accountID < $1.accountID }, rows)
        XCTAssertEqual(taken.map(\.drainedAt), [5_000, 5_000])
        XCTAssertEqual(try store.take(drainedSince: 4_000).count, 0, "a second start restores nothing")
    }

    func testADrainReplacesThePreviousOne() throws {
        let database = try Database(location: TestStorage.location(directory.path("db.sqlite")))
        let store = ShownPresenceStore(database)
        try store.replace(with: [ShownPresenceRow(accountID: "bob@x.io", status: "busy", lastSeen: nil)], drainedAt: 1)
        try store.replace(with: [ShownPresenceRow(accountID: "carol@x.io", status: "idle", lastSeen: nil)], drainedAt: 2)
        XCTAssertEqual(try store.take(drainedSince: 0).map(\.row.accountID), ["carol@x.io"])
    }

    func testHiddenIsNotAStatusARowCanHold() throws {
        let database = try Database(location: TestStorage.location(directory.path("db.sqlite")))
        XCTAssertThrowsError(try ShownPresenceStore(database).replace(
            with: [ShownPresenceRow(accountID: "dave@x.io", status: "hidden", lastSeen: nil)], drainedAt: 1))
        XCTAssertEqual(try ShownPresenceStore(database).count(), 0, "the failed drain left nothing half-written")
    }
}

/// A cluster's nodes share the table (`merge`, `recent`): each adds its own users' rows at
/// a re-placement and every node reads all of them, on SQLite and PostgreSQL alike.
final class ShownPresenceClusterStoreTests: XCTestCase {
    let directory = TemporaryDirectory()

    func testNodesMergeTheirRowsAndEveryNodeReadsAllRecentOnes() throws {
        let database = try Database(location: TestStorage.location(directory.path("db.sqlite")))
        let store = ShownPresenceStore(database)
        try store.merge([ShownPresenceRow(accountID: "ann@x.io", status: "online", lastSeen: nil)], drainedAt: 1_000, expiredBefore: 0)
        try store.merge([ShownPresenceRow(accountID: "bob@x.io", status: "offline", lastSeen: 900)], drainedAt: 1_100, expiredBefore: 0)
        // A later row of the same user replaces the earlier one.
        try store.merge([ShownPresenceRow(accountID: "ann@x.io", status: "busy", lastSeen: nil)], drainedAt: 1_200, expiredBefore: 0)
        let read = try store.recent(drainedSince: 0).sorted { $0.row.accountID < $1.row.accountID }
        XCTAssertEqual(read.map(\.row), [ShownPresenceRow(accountID: "ann@x.io", status: "busy", lastSeen: nil),
                                         ShownPresenceRow(accountID: "bob@x.io", status: "offline", lastSeen: 900)])
        XCTAssertEqual(read.map(\.drainedAt), [1_200, 1_100])
        // Reading leaves the rows for the other nodes.
        XCTAssertEqual(try store.recent(drainedSince: 0).count, 2)
        XCTAssertEqual(try store.recent(drainedSince: 1_150).map(\.row.accountID), ["ann@x.io"], "only rows of the grace")
        // A merge drops rows whose grace ended; the positive control above had them.
        try store.merge([], drainedAt: 5_000, expiredBefore: 1_150)
        XCTAssertEqual(try store.count(), 1)
    }
}
