import XCTest
@testable import Accounts
import Storage

/// Sign-up, profile edits, the immutable e-mail, and deletion.
final class AccountLifecycleTests: XCTestCase {
    var fixture: AccountsFixture!
    var service: AccountService { fixture.service }

    override func setUpWithError() throws { fixture = try AccountsFixture(signingKey: sharedSigningKey) }

    func signUpAnn() throws -> AccountProfile {
        try service.signUp(email: "Ann@Example.com", firstName: " Ann ", lastName: "Lee", password: goodPassword,
                           wantsOfflineEmail: true)
    }

    func testSignUpStoresTheLowercasedIDAndOnlyAPasswordHash() throws {
        let profile = try signUpAnn()
        XCTAssertEqual(profile.id, "ann@example.com")
        XCTAssertEqual([profile.firstName, profile.lastName], ["Ann", "Lee"])
        XCTAssertTrue(profile.wantsOfflineEmail)
        let stored = try XCTUnwrap(AccountStore(fixture.database).find(id: "ann@example.com")?.passwordHash)
        XCTAssertTrue(stored.hasPrefix("$scrypt$"))
        XCTAssertFalse(stored.contains(goodPassword))
    }

    func testSignUpRejectionsTable() throws {
        _ = try signUpAnn()
        let table: [(email: String, first: String, password: String, error: AccountsError)] = [
            ("not-an-address", "Bo", goodPassword, .invalidEmail),
            ("ANN@example.COM", "Bo", goodPassword, .emailTaken),   // duplicates compare case-insensitively
            ("bo@example.com", "", goodPassword, .invalidName(field: "first name")),
            ("bo@example.com", "Bo\u{7}", goodPassword, .invalidName(field: "first name")),
            ("bo@example.com", String(repeating: "B", count: 101), goodPassword, .invalidName(field: "first name")),
            ("bo@example.com", "Bo", "short", .passwordRejected([.tooShort(minimum: 10), .missingUppercase, .missingDigit, .missingSymbol])),
        ]
        for row in table {
            XCTAssertThrowsError(try service.signUp(email: row.email, firstName: row.first, lastName: "",
                                                    password: row.password, wantsOfflineEmail: false), row.email) { error in
                XCTAssertEqual(error as? AccountsError, row.error, row.email)
            }
        }
        XCTAssertEqual(try fixture.count("accounts"), 1)
    }

    func testProfileEditsAreSavedAtOnce() throws {
        _ = try signUpAnn()
        fixture.clock.advance(seconds: 5)
        let edited = try service.updateProfile(accountID: "ann@example.com",
                                               ProfileEdit(firstName: "Annie", wantsOfflineEmail: false))
        XCTAssertEqual(edited.firstName, "Annie")
        XCTAssertEqual(edited.lastName, "Lee", "untouched fields stay")
        XCTAssertFalse(edited.wantsOfflineEmail)
        XCTAssertEqual(try service.profile(accountID: "ann@example.com"), edited)
        XCTAssertGreaterThan(edited.updatedAt, edited.createdAt)
    }

    func testChangingTheEmailIsRefusedWithAdviceToCreateANewAccount() throws {
        _ = try signUpAnn()
        XCTAssertThrowsError(try service.updateProfile(accountID: "ann@example.com",
                                                       ProfileEdit(firstName: "X", email: "new@example.com"))) { error in
            XCTAssertEqual(error as? AccountsError, .emailCannotChange)
            XCTAssertTrue((error as? AccountsError)?.message.contains("Create a new account") == true)
        }
        XCTAssertEqual(try service.profile(accountID: "ann@example.com").firstName, "Ann", "nothing saved")
        XCTAssertThrowsError(try service.changeEmail(accountID: "ann@example.com", to: "new@example.com"))
        // Sending the same address back (a form that echoes it) is not a change.
        XCTAssertNoThrow(try service.updateProfile(accountID: "ann@example.com", ProfileEdit(email: "ANN@example.com")))
    }

    func testDeletingAnAccountRemovesItsDataAndFreesTheAddress() throws {
        _ = try signUpAnn()
        _ = try service.signUp(email: "bo@example.com", firstName: "Bo", lastName: "", password: goodPassword, wantsOfflineEmail: true)
        let database = fixture.database
        try ContactStore(database).request(from: "ann@example.com", to: "bo@example.com", at: 1)
        _ = try MessageStore(database).append(sender: "bo@example.com", recipient: "ann@example.com", clientMessageID: "1", body: "hi", at: 1)
        _ = try MessageStore(database).append(sender: "ann@example.com", recipient: "bo@example.com", clientMessageID: "2", body: "yo", at: 1)
        _ = try service.signIn(email: "ann@example.com", password: goodPassword, device: .desktop, staySignedIn: true, sourceAddress: "1")
        try service.requestPasswordReset(email: "ann@example.com", sourceAddress: "1")

        let deleted = try service.deleteAccount(accountID: "ann@example.com")

        XCTAssertEqual(deleted, DeletedAccount(accountID: "ann@example.com", formerContacts: ["bo@example.com"]))
        for table in ["contacts", "messages", "device_tokens", "reset_tokens", "outbox"] {
            XCTAssertEqual(try fixture.count(table), 0, table)
        }
        XCTAssertThrowsError(try service.profile(accountID: "ann@example.com"))
        XCTAssertEqual(try service.profile(accountID: "bo@example.com").id, "bo@example.com", "others stay")
        XCTAssertNoThrow(try signUpAnn(), "the same address can sign up again")
        XCTAssertThrowsError(try service.deleteAccount(accountID: "ghost@example.com")) { error in
            XCTAssertEqual(error as? AccountsError, .accountNotFound)
        }
    }

    func testErrorsMapToStableCodesAndStatuses() {
        let table: [(AccountsError, String, Int)] = [
            (.invalidEmail, "invalid_email", 400), (.emailTaken, "email_taken", 409),
            (.passwordRejected([]), "password_rejected", 400), (.invalidCredentials, "invalid_credentials", 401),
            (.rateLimited(retryAfterSeconds: 3), "rate_limited", 429), (.invalidDeviceToken, "invalid_device_token", 401),
            (.invalidResetToken, "invalid_reset_token", 400), (.resetTokenExpired, "reset_token_expired", 410),
            (.emailCannotChange, "email_cannot_change", 400), (.googleTokenRejected(.expired), "google_token_rejected", 401),
            (.accountNotFound, "account_not_found", 404), (.invalidName(field: "x"), "invalid_name", 400),
        ]
        for (error, code, status) in table {
            XCTAssertEqual(error.code, code)
            XCTAssertEqual(error.httpStatus, status, code)
            XCTAssertFalse(error.message.isEmpty)
        }
    }
}
