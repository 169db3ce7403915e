import XCTest
@testable import Storage
import StorageTestSupport

/// The small repository types over the schema: accounts, device tokens, reset tokens, contacts.
final class RepositoryTests: XCTestCase {
    let directory = TemporaryDirectory()
    var database: Database!

    override func setUpWithError() throws {
        database = try Database(location: TestStorage.location(directory.path("db.sqlite")))
        for id in ["a@x.org", "b@x.org", "c@x.org"] { try AccountStore(database).insert(.sample(id)) }
    }

    func testDuplicateAccountIDIsAConstraintViolation() throws {
        XCTAssertThrowsError(try AccountStore(database).insert(.sample("a@x.org"))) { error in
            XCTAssertEqual((error as? StorageError)?.isConstraintViolation, true)
        }
    }

    func testProfileAndPasswordUpdatesAreSaved() throws {
        let accounts = AccountStore(database)
        XCTAssertTrue(try accounts.updateProfile(id: "a@x.org", firstName: "Ann", lastName: "Lee",
                                                 wantsOfflineEmail: true, at: 2_000))
        XCTAssertTrue(try accounts.setPasswordHash(id: "a@x.org", "new", at: 3_000))
        XCTAssertTrue(try accounts.linkGoogle(id: "a@x.org", subject: "g-1", at: 4_000))
        let saved = try XCTUnwrap(accounts.find(id: "a@x.org"))
        XCTAssertEqual([saved.firstName, saved.lastName, saved.passwordHash], ["Ann", "Lee", "new"])
        XCTAssertTrue(saved.wantsOfflineEmail)
        XCTAssertEqual(saved.updatedAt, 4_000)
        XCTAssertEqual(try accounts.find(googleSubject: "g-1")?.id, "a@x.org")
        XCTAssertFalse(try accounts.updateProfile(id: "nobody@x.org", firstName: "", lastName: "",
                                                  wantsOfflineEmail: false, at: 0))
    }

    func testDeletingAnAccountRemovesEveryRowThatRefersToIt() throws {
        try DeviceTokenStore(database).insert(accountID: "a@x.org", tokenHash: [1], deviceKind: .desktop, at: 0)
        try ResetTokenStore(database).insert(tokenHash: [2], accountID: "a@x.org", createdAt: 0, expiresAt: 10)
        try ContactStore(database).request(from: "a@x.org", to: "b@x.org", at: 0)
        _ = try MessageStore(database).append(sender: "b@x.org", recipient: "a@x.org", clientMessageID: "1", body: "hi", at: 0)
        _ = try MessageStore(database).append(sender: "b@x.org", recipient: "c@x.org", clientMessageID: "2", body: "yo", at: 0)

        XCTAssertTrue(try AccountStore(database).delete(id: "a@x.org"))

        for table in ["device_tokens", "reset_tokens", "contacts"] {
            XCTAssertEqual(try database.queryFirst("SELECT count(*) FROM \(table)") { $0.int(0) }, 0, table)
        }
        XCTAssertEqual(try database.query("SELECT body FROM messages") { $0.text(0) }, ["yo"])
        XCTAssertEqual(try Schema.integrityProblems(of: database), [])
        // The ID is free again.
        XCTAssertNoThrow(try AccountStore(database).insert(.sample("a@x.org")))
    }

    func testRotatedDeviceTokenHashNoLongerMatches() throws {
        let tokens = DeviceTokenStore(database)
        let id = try tokens.insert(accountID: "a@x.org", tokenHash: [1, 1], deviceKind: .mobile, at: 0)
        XCTAssertTrue(try tokens.rotate(from: [1, 1], to: [2, 2], at: 5))
        XCTAssertFalse(try tokens.rotate(from: [1, 1], to: [3, 3], at: 6), "the old hash cannot rotate twice")
        XCTAssertNil(try tokens.findActive(tokenHash: [1, 1]))
        let rotated = try XCTUnwrap(tokens.findActive(tokenHash: [2, 2]))
        XCTAssertEqual(rotated.id, id, "the device keeps its row across rotations")
        XCTAssertEqual(rotated.deviceKind, .mobile)
        XCTAssertEqual(rotated.lastUsedAt, 5)
    }

    func testRotatedDeviceTokenStaysUsableUntilItsGraceEndsOrItsReplacementIsUsed() throws {
        let tokens = DeviceTokenStore(database)
        let id = try tokens.insert(accountID: "a@x.org", tokenHash: [1], deviceKind: .web, at: 0)
        XCTAssertTrue(try tokens.rotate(from: [1], to: [2], at: 10, graceUntil: 70))
        XCTAssertEqual(try tokens.findUsable(tokenHash: [1], at: 69)?.id, id, "within the grace")
        XCTAssertNil(try tokens.findUsable(tokenHash: [1], at: 70), "the grace is over")
        // A retry with the previous token replaces the current one and keeps the deadline.
        XCTAssertTrue(try tokens.rotate(from: [1], to: [3], at: 20, graceUntil: 80))
        XCTAssertNil(try tokens.findUsable(tokenHash: [2], at: 20), "the replacement nobody received is gone")
        XCTAssertNil(try tokens.findUsable(tokenHash: [1], at: 70), "the deadline did not move")
        // Using the current token ends the previous one's grace at once.
        XCTAssertTrue(try tokens.rotate(from: [3], to: [4], at: 30, graceUntil: 90))
        XCTAssertNil(try tokens.findUsable(tokenHash: [1], at: 30))
        XCTAssertEqual(try tokens.findUsable(tokenHash: [3], at: 30)?.id, id)
        XCTAssertFalse(try tokens.rotate(from: [1], to: [5], at: 31, graceUntil: 91))
        // Revoking through either token revokes the device.
        XCTAssertEqual(try tokens.revoke(tokenHash: [3], at: 32), "a@x.org")
        XCTAssertNil(try tokens.findUsable(tokenHash: [4], at: 32))
        XCTAssertNil(try tokens.findUsable(tokenHash: [3], at: 32))
    }

    func testRevokeAllKeepsOnlyTheNamedDevice() throws {
        let tokens = DeviceTokenStore(database)
        let kept = try tokens.insert(accountID: "a@x.org", tokenHash: [1], deviceKind: .desktop, at: 0)
        try tokens.insert(accountID: "a@x.org", tokenHash: [2], deviceKind: .web, at: 0)
        try tokens.insert(accountID: "b@x.org", tokenHash: [3], deviceKind: .web, at: 0)
        XCTAssertEqual(try tokens.revokeAll(accountID: "a@x.org", keeping: kept, at: 9), 1)
        XCTAssertEqual(try tokens.active(accountID: "a@x.org").map(\.id), [kept])
        XCTAssertEqual(try tokens.revokeAll(accountID: "a@x.org", at: 9), 1)
        XCTAssertEqual(try tokens.active(accountID: "a@x.org"), [])
        XCTAssertNotNil(try tokens.findActive(tokenHash: [3]), "other accounts are untouched")
        XCTAssertFalse(try tokens.rotate(from: [1], to: [4], at: 10), "a revoked device cannot rotate")
    }

    func testBurnAllMarksEveryOutstandingResetTokenOfTheAccountUsed() throws {
        let resets = ResetTokenStore(database)
        try resets.insert(tokenHash: [1], accountID: "a@x.org", createdAt: 0, expiresAt: 100)
        try resets.insert(tokenHash: [2], accountID: "a@x.org", createdAt: 0, expiresAt: 100)
        try resets.insert(tokenHash: [3], accountID: "b@x.org", createdAt: 0, expiresAt: 100)
        XCTAssertEqual(try resets.burnAll(accountID: "a@x.org", at: 7), 2)
        XCTAssertEqual(try resets.find(tokenHash: [1])?.usedAt, 7)
        XCTAssertEqual(try resets.find(tokenHash: [2])?.usedAt, 7)
        XCTAssertNil(try resets.find(tokenHash: [3])?.usedAt)
        XCTAssertEqual(try resets.deleteExpired(before: 101), 3)
    }

    func testMutualContactRequestsBecomeAccepted() throws {
        let contacts = ContactStore(database)
        XCTAssertEqual(try contacts.request(from: "b@x.org", to: "a@x.org", at: 1), .pending)
        XCTAssertEqual(try contacts.request(from: "b@x.org", to: "a@x.org", at: 2), .pending, "asking twice changes nothing")
        XCTAssertEqual(try contacts.request(from: "a@x.org", to: "b@x.org", at: 3), .accepted)
        XCTAssertEqual(try contacts.contacts(of: "a@x.org").map(\.peerID), ["b@x.org"])
        XCTAssertEqual(try contacts.contacts(of: "b@x.org").first?.state, .accepted)
    }

    /// A user's links where they are the smaller ID (`account_a`), the larger one
    /// (`account_b`) and the requester of an invitation all come back, in peer order, with
    /// each row's own state, requester and time.
    func testContactsOfAUserComeFromBothSidesOfThePairAndItsInvitations() throws {
        for id in ["0@x.org", "d@x.org"] { try AccountStore(database).insert(.sample(id)) }
        let contacts = ContactStore(database)
        try contacts.request(from: "0@x.org", to: "c@x.org", at: 1)   // c is account_b
        try contacts.request(from: "c@x.org", to: "d@x.org", at: 2)   // c is account_a
        try contacts.request(from: "a@x.org", to: "c@x.org", at: 3)
        try contacts.request(from: "c@x.org", to: "a@x.org", at: 4)   // accepted, c is account_b
        try contacts.request(from: "c@x.org", to: "new@x.org", at: 5) // an invitation
        XCTAssertEqual(try contacts.contacts(of: "c@x.org"), [
            ContactRecord(peerID: "0@x.org", state: .pending, requestedBy: "0@x.org", updatedAt: 1),
            ContactRecord(peerID: "a@x.org", state: .accepted, requestedBy: "a@x.org", updatedAt: 4),
            ContactRecord(peerID: "d@x.org", state: .pending, requestedBy: "c@x.org", updatedAt: 2),
            ContactRecord(peerID: "new@x.org", state: .pending, requestedBy: "c@x.org", updatedAt: 5),
        ])
    }

    /// SQLite reads a user's contacts from the primary key's range and the covering index
    /// alone (migration 6): no B-tree search per row, which was most of a sign-in's work in
    /// the storage writer during a sign-in storm.
    func testContactsOfAUserAreReadFromIndexesAlone() throws {
        guard database.engine == .sqlite else { throw XCTSkip("SQLite's query plan") }
        let plan = try database.query("""
            EXPLAIN QUERY PLAN
            SELECT account_b, state, requested_by, updated_at FROM contacts WHERE account_a = ?1
            UNION ALL
            SELECT account_a, state, requested_by, updated_at FROM contacts WHERE account_b = ?1
            """, "c@x.org") { $0.text(3) }
        XCTAssertTrue(plan.contains { $0.contains("USING PRIMARY KEY (account_a=?)") }, "\(plan)")
        XCTAssertTrue(plan.contains { $0.contains("USING COVERING INDEX contacts_by_b_covering (account_b=?)") }, "\(plan)")
    }

    func testOnlyTheAskedSideCanAcceptARequest() throws {
        let contacts = ContactStore(database)
        try contacts.request(from: "a@x.org", to: "c@x.org", at: 1)
        XCTAssertFalse(try contacts.accept(by: "a@x.org", from: "c@x.org", at: 2))
        XCTAssertTrue(try contacts.accept(by: "c@x.org", from: "a@x.org", at: 2))
        let link = try XCTUnwrap(contacts.contacts(of: "c@x.org").first)
        XCTAssertEqual(link, ContactRecord(peerID: "a@x.org", state: .accepted, requestedBy: "a@x.org", updatedAt: 2))
        XCTAssertEqual(try contacts.removeAll(of: "c@x.org"), ["a@x.org"])
        XCTAssertEqual(try contacts.contacts(of: "a@x.org"), [])
    }

    /// A request to an address without an account is kept (no foreign-key failure), reads
    /// back as the requester's pending request, and becomes a real one at sign-up.
    func testRequestToAnAddressWithoutAnAccountIsKeptUntilItSignsUp() throws {
        let contacts = ContactStore(database)
        XCTAssertEqual(try contacts.request(from: "a@x.org", to: "new@x.org", at: 5), .pending)
        XCTAssertEqual(try contacts.request(from: "b@x.org", to: "new@x.org", at: 6), .pending)
        XCTAssertEqual(try contacts.request(from: "a@x.org", to: "new@x.org", at: 7), .pending, "asking twice changes nothing")
        XCTAssertEqual(try contacts.contacts(of: "a@x.org"),
                       [ContactRecord(peerID: "new@x.org", state: .pending, requestedBy: "a@x.org", updatedAt: 5)])
        XCTAssertFalse(try contacts.areContacts("a@x.org", "new@x.org"))
        XCTAssertTrue(try contacts.remove("b@x.org", "new@x.org"), "withdrawn")
        XCTAssertEqual(try contacts.contacts(of: "b@x.org"), [])

        try AccountStore(database).insert(.sample("new@x.org"))
        XCTAssertEqual(try contacts.contacts(of: "new@x.org"),
                       [ContactRecord(peerID: "a@x.org", state: .pending, requestedBy: "a@x.org", updatedAt: 5)])
        XCTAssertEqual(try contacts.contacts(of: "a@x.org").count, 1, "a contact row now, not an invitation as well")
        XCTAssertTrue(try contacts.accept(by: "new@x.org", from: "a@x.org", at: 9))
        XCTAssertTrue(try contacts.areContacts("a@x.org", "new@x.org"))
        XCTAssertTrue(try Schema.integrityProblems(of: database).isEmpty)
    }

    func testDeletingTheRequesterDropsItsInvitations() throws {
        try ContactStore(database).request(from: "a@x.org", to: "new@x.org", at: 5)
        XCTAssertTrue(try AccountStore(database).delete(id: "a@x.org"))
        try AccountStore(database).insert(.sample("new@x.org"))
        XCTAssertEqual(try ContactStore(database).contacts(of: "new@x.org"), [])
    }
}
