import XCTest
@testable import Storage
import StorageTestSupport

final class MessageStoreTests: XCTestCase {
    let directory = TemporaryDirectory()
    var database: Database!
    var messages: MessageStore { MessageStore(database) }

    override func setUpWithError() throws {
        database = try Database(location: TestStorage.location(directory.path("db.sqlite")))
        for id in ["a@x.org", "b@x.org", "c@x.org"] { try AccountStore(database).insert(.sample(id)) }
    }

    func testResendWithSameClientMessageIDReturnsTheFirstMessage() throws {
        let first = try messages.append(sender: "a@x.org", recipient: "b@x.org", clientMessageID: "m1", body: "hi", at: 10)
        let again = try messages.append(sender: "a@x.org", recipient: "b@x.org", clientMessageID: "m1", body: "hi", at: 20)
        XCTAssertFalse(first.isDuplicate)
        XCTAssertEqual(again, AppendedMessage(id: first.id, createdAt: 10, isDuplicate: true))
        // The same client ID from another sender is another message.
        let other = try messages.append(sender: "b@x.org", recipient: "a@x.org", clientMessageID: "m1", body: "yo", at: 30)
        XCTAssertFalse(other.isDuplicate)
        XCTAssertEqual(try database.queryFirst("SELECT count(*) FROM messages") { $0.int(0) }, 2)
    }

    func testHistoryPagesBothDirectionsNewestFirst() throws {
        for i in 0..<5 {
            let (from, to) = i.isMultiple(of: 2) ? ("a@x.org", "b@x.org") : ("b@x.org", "a@x.org")
            _ = try messages.append(sender: from, recipient: to, clientMessageID: "\(i)", body: "m\(i)", at: Int64(i))
        }
        _ = try messages.append(sender: "a@x.org", recipient: "c@x.org", clientMessageID: "x", body: "other", at: 9)

        let page1 = try messages.history(between: "b@x.org", and: "a@x.org", limit: 2)
        XCTAssertEqual(page1.map(\.body), ["m4", "m3"])
        let page2 = try messages.history(between: "a@x.org", and: "b@x.org", before: page1.last?.id, limit: 2)
        XCTAssertEqual(page2.map(\.body), ["m2", "m1"])
        let page3 = try messages.history(between: "a@x.org", and: "b@x.org", before: page2.last?.id, limit: 2)
        XCTAssertEqual(page3.map(\.body), ["m0"])
    }

    func testHistoryAndUndeliveredQueriesUseTheirIndexes() throws {
        let postgres = database.engine == .postgres
        // The history query as MessageStore sends it on each engine (min/max, LEAST/GREATEST).
        let conversation = postgres
            ? "SELECT id FROM messages WHERE LEAST(sender, recipient) = 'a' AND GREATEST(sender, recipient) = 'b' AND id < 9 ORDER BY id DESC LIMIT 5"
            : "SELECT id FROM messages WHERE min(sender, recipient) = 'a' AND max(sender, recipient) = 'b' AND id < 9 ORDER BY id DESC LIMIT 5"
        let plans: [(sql: String, index: String)] = [
            (conversation, "messages_by_conversation"),
            ("SELECT id FROM messages WHERE recipient = 'a' AND is_delivered = 0 ORDER BY id LIMIT 5",
             "messages_by_recipient"),
        ]
        // An empty table makes PostgreSQL's planner prefer a sequential scan whatever the
        // indexes; with that scan priced out, the index is used exactly when it can be.
        if postgres { try database.execute("SET enable_seqscan = off") }
        for (sql, index) in plans {
            let plan = postgres
                ? try database.query("EXPLAIN " + sql) { $0.text(0) }.joined(separator: "; ")
                : try database.query("EXPLAIN QUERY PLAN " + sql) { $0.text(3) }.joined(separator: "; ")
            XCTAssertTrue(plan.contains(index), plan)
            XCTAssertFalse(plan.contains("TEMP B-TREE") || plan.contains("Sort"), "no sort step: \(plan)")
        }
    }

    func testUndeliveredListsOnlyTheRecipientsPendingMessagesOldestFirst() throws {
        let m1 = try messages.append(sender: "a@x.org", recipient: "b@x.org", clientMessageID: "1", body: "one", at: 1)
        _ = try messages.append(sender: "c@x.org", recipient: "b@x.org", clientMessageID: "2", body: "two", at: 2)
        _ = try messages.append(sender: "b@x.org", recipient: "a@x.org", clientMessageID: "3", body: "three", at: 3)
        XCTAssertEqual(try messages.undelivered(to: "b@x.org", limit: 10).map(\.body), ["one", "two"])
        XCTAssertEqual(try messages.markDelivered(ids: [m1.id, m1.id]), 1)
        XCTAssertEqual(try messages.undelivered(to: "b@x.org", limit: 10).map(\.body), ["two"])
        XCTAssertEqual(try messages.deleteAll(involving: "b@x.org"), 3)
    }
}
