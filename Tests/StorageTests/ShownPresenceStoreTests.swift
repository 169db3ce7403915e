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
