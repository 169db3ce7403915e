import XCTest
@testable import Storage
import StorageTestSupport

final class OutboxStoreTests: XCTestCase {
    let directory = TemporaryDirectory()

    func testOnlyUnsentRowsWhoseAttemptIsDueAreListed() throws {
        let database = try Database(location: TestStorage.location(directory.path("db.sqlite")))
        let outbox = OutboxStore(database)
        let sent = try outbox.enqueue(recipient: "a@x.org", subject: "s", message: Array("m".utf8), at: 100)
        let retried = try outbox.enqueue(recipient: "b@x.org", subject: "s", message: [], at: 100)
        let abandoned = try outbox.enqueue(recipient: "c@x.org", subject: "s", message: [], at: 100)
        let fresh = try outbox.enqueue(recipient: "d@x.org", subject: "s", message: [], at: 150)

        try outbox.markSent(id: sent, attempts: 1, at: 101)
        try outbox.scheduleRetry(id: retried, attempts: 1, nextAttemptAt: 200, error: "refused")
        try outbox.abandon(id: abandoned, attempts: 9, error: "gone", at: 101)

        XCTAssertEqual(try outbox.due(at: 160, limit: 10).map(\.id), [fresh])
        XCTAssertEqual(try outbox.due(at: 200, limit: 10).map(\.id), [fresh, retried])
        XCTAssertEqual(try outbox.pending().map(\.id), [retried, fresh])
        let row = try XCTUnwrap(outbox.find(id: retried))
        XCTAssertEqual(row.attempts, 1)
        XCTAssertEqual(row.lastError, "refused")
        XCTAssertEqual(try outbox.find(id: sent)?.message, [], "a sent message is scrubbed")
        XCTAssertTrue(try outbox.hasUnsent(recipient: "d@x.org", subject: "s"))
        XCTAssertFalse(try outbox.hasUnsent(recipient: "d@x.org", subject: "other"))
        XCTAssertFalse(try outbox.hasUnsent(recipient: "a@x.org", subject: "s"), "sent")
        XCTAssertFalse(try outbox.hasUnsent(recipient: "c@x.org", subject: "s"), "abandoned")
        XCTAssertEqual(try outbox.cancelPending(recipient: "b@x.org"), 1)
    }
}
