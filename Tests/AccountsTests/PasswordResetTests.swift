import Foundation
import XCTest
@testable import Accounts
import Storage

/// Forgot password, the reset link, and changing the password while signed in.
final class PasswordResetTests: XCTestCase {
    var fixture: AccountsFixture!
    var service: AccountService { fixture.service }
    let newPassword = "Brand-New-Pass-7"

    override func setUpWithError() throws {
        var configuration = AccountsConfiguration()
        configuration.mail = MailTemplates(productName: "Presence", from: "Presence <no-reply@chat.example.com>",
                                           resetLinkBase: "https://chat.example.com/password-reset/")
        fixture = try AccountsFixture(configuration: configuration, signingKey: sharedSigningKey)
        _ = try service.signUp(email: "ann@example.com", firstName: "Ann", lastName: "Lee", password: goodPassword,
                               wantsOfflineEmail: false)
    }

    /// Requests a reset and returns the token, read back from the queued mail.
    func requestToken() throws -> String {
        try service.requestPasswordReset(email: "Ann@Example.com", sourceAddress: "10.0.0.1")
        let mail = try XCTUnwrap(OutboxStore(fixture.database).pending().last)
        let text = String(decoding: mail.message, as: UTF8.self)
        let start = try XCTUnwrap(text.range(of: "https://chat.example.com/password-reset/"))
        return String(text[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
    }

    func testResetMailStatesTheIDTheLinkTheLifetimeAndThatItCanBeIgnored() throws {
        let token = try requestToken()
        XCTAssertGreaterThanOrEqual(Base64URL.decode(token)?.count ?? 0, 16, "at least 128 bits")
        let row = try XCTUnwrap(OutboxStore(fixture.database).pending().first)
        XCTAssertEqual(row.recipient, "ann@example.com")
        let text = String(decoding: row.message, as: UTF8.self)
        for expected in ["To: ann@example.com", "Subject: Presence password reset", "Your Presence ID is: ann@example.com",
                         "https://chat.example.com/password-reset/\(token)", "The link is active for 24 hours.",
                         "If you did not request this information, you may safely ignore it"] {
            XCTAssertTrue(text.contains(expected), expected)
        }
        // Stored hashed: the token is not in the reset table.
        let stored = try fixture.database.query("SELECT token_hash FROM reset_tokens") { $0.blob(0) }
        XCTAssertEqual(stored, [SecretToken.hash(token)])
    }

    func testResetRequestForUnknownAccountLooksTheSameButQueuesNothing() throws {
        XCTAssertNoThrow(try service.requestPasswordReset(email: "nobody@example.com", sourceAddress: "10.0.0.1"))
        XCTAssertNoThrow(try service.requestPasswordReset(email: "not an address", sourceAddress: "10.0.0.1"))
        XCTAssertEqual(try fixture.count("outbox"), 0)
        XCTAssertEqual(try fixture.count("reset_tokens"), 0)
    }

    func testPastThePerTargetLimitRequestsAreDroppedSilentlyAlikeForKnownAndUnknownAddresses() throws {
        for email in ["ann@example.com", "nobody@example.com"] {
            // From a different source address each time: the per-source limit never trips.
            for n in 0..<(RateLimit.resetPerAccount.burst + 3) {
                XCTAssertNoThrow(try service.requestPasswordReset(email: email, sourceAddress: "10.0.1.\(n)"), email)
            }
        }
        XCTAssertEqual(try fixture.count("outbox"), RateLimit.resetPerAccount.burst, "only the burst was mailed; the rest dropped")
        XCTAssertEqual(try fixture.count("reset_tokens"), RateLimit.resetPerAccount.burst)
        // One refill later the owner can ask again: the dropped requests did not push it out.
        fixture.clock.advance(milliseconds: RateLimit.resetPerAccount.refillMilliseconds)
        try service.requestPasswordReset(email: "ann@example.com", sourceAddress: "10.0.2.1")
        XCTAssertEqual(try fixture.count("outbox"), RateLimit.resetPerAccount.burst + 1)
    }

    func testPastThePerSourceLimitRequestsAreRefusedAlikeForKnownAndUnknownAddresses() throws {
        for (n, email) in ["ann@example.com", "nobody@example.com"].enumerated() {
            let source = "10.0.3.\(n)"
            for i in 0..<RateLimit.resetPerAddress.burst {
                try service.requestPasswordReset(email: "other\(i)@example.com", sourceAddress: source)
            }
            XCTAssertThrowsError(try service.requestPasswordReset(email: email, sourceAddress: source)) { error in
                XCTAssertEqual(error as? AccountsError, .rateLimited(retryAfterSeconds: 60), email)
            }
        }
    }

    func testResetSetsThePasswordBurnsEveryResetTokenAndRevokesEveryDevice() throws {
        let device = try XCTUnwrap(service.signIn(email: "ann@example.com", password: goodPassword, device: .desktop,
                                                  staySignedIn: true, sourceAddress: "1").deviceToken)
        let older = try requestToken()
        let token = try requestToken()

        let change = try service.resetPassword(token: token, newPassword: newPassword)

        XCTAssertEqual(change, CredentialChange(accountID: "ann@example.com", revokedDeviceTokens: 1, closesEverySession: true))
        XCTAssertNoThrow(try service.signIn(email: "ann@example.com", password: newPassword, device: .web, staySignedIn: false, sourceAddress: "1"))
        XCTAssertThrowsError(try service.signIn(email: "ann@example.com", password: goodPassword, device: .web, staySignedIn: false, sourceAddress: "2"))
        XCTAssertThrowsError(try service.signIn(deviceToken: device, sourceAddress: "1")) {
            XCTAssertEqual($0 as? AccountsError, .invalidDeviceToken)
        }
        for used in [token, older] {
            XCTAssertThrowsError(try service.resetPassword(token: used, newPassword: "Another-Pass-8")) {
                XCTAssertEqual($0 as? AccountsError, .invalidResetToken)
            }
        }
    }

    func testResetTokenIsSingleUse() throws {
        let token = try requestToken()
        try service.resetPassword(token: token, newPassword: newPassword)
        XCTAssertThrowsError(try service.resetPassword(token: token, newPassword: "Another-Pass-8")) {
            XCTAssertEqual($0 as? AccountsError, .invalidResetToken)
        }
    }

    func testResetTokenExpiresAfterExactly24Hours() throws {
        let token = try requestToken()
        fixture.clock.advance(milliseconds: 24 * 3_600_000 - 1)
        let stillValid = try requestToken()  // a second link, to test both sides of the edge
        _ = stillValid
        fixture.clock.advance(milliseconds: 1)
        XCTAssertThrowsError(try service.resetPassword(token: token, newPassword: newPassword)) {
            XCTAssertEqual($0 as? AccountsError, .resetTokenExpired)
        }
        XCTAssertNoThrow(try service.resetPassword(token: stillValid, newPassword: newPassword))
    }

    func testResetLifetimeIsConfigurable() throws {
        var configuration = AccountsConfiguration()
        configuration.resetTokenLifetimeMilliseconds = 3_600_000
        fixture = try AccountsFixture(configuration: configuration, signingKey: sharedSigningKey)
        _ = try service.signUp(email: "ann@example.com", firstName: "Ann", lastName: "", password: goodPassword, wantsOfflineEmail: false)
        try service.requestPasswordReset(email: "ann@example.com", sourceAddress: "1")
        let text = String(decoding: try XCTUnwrap(OutboxStore(fixture.database).pending().first).message, as: UTF8.self)
        XCTAssertTrue(text.contains("The link is active for 1 hours."))
        XCTAssertEqual(try fixture.database.queryFirst("SELECT expires_at - created_at FROM reset_tokens") { $0.int64(0) }, 3_600_000)
    }

    func testWeakNewPasswordIsRejectedWithoutBurningTheToken() throws {
        let token = try requestToken()
        XCTAssertThrowsError(try service.resetPassword(token: token, newPassword: "weak")) { error in
            guard case .passwordRejected(let rules) = error as? AccountsError else { return XCTFail("\(error)") }
            XCTAssertEqual(rules.count, 4)
        }
        XCTAssertNoThrow(try service.resetPassword(token: token, newPassword: newPassword))
    }

    func testUnknownResetTokenIsRejected() {
        XCTAssertThrowsError(try service.resetPassword(token: SecretToken.generate(), newPassword: newPassword)) {
            XCTAssertEqual($0 as? AccountsError, .invalidResetToken)
        }
    }

    func testChangePasswordNeedsTheOldOneAndRevokesOtherDevicesOnly() throws {
        func signIn(_ password: String) throws -> String? {
            try service.signIn(email: "ann@example.com", password: password, device: .desktop, staySignedIn: true,
                               sourceAddress: "1").deviceToken
        }
        let current = try XCTUnwrap(signIn(goodPassword)), other = try XCTUnwrap(signIn(goodPassword))
        let pendingReset = try requestToken()
        XCTAssertThrowsError(try service.changePassword(accountID: "ann@example.com", currentPassword: "Wrong-Pass-1",
                                                        newPassword: newPassword, sourceAddress: "1")) {
            XCTAssertEqual($0 as? AccountsError, .invalidCredentials)
        }
        XCTAssertThrowsError(try service.changePassword(accountID: "ann@example.com", currentPassword: goodPassword,
                                                        newPassword: "nope", sourceAddress: "1"))
        let change = try service.changePassword(accountID: "ann@example.com", currentPassword: goodPassword,
                                                newPassword: newPassword, currentDeviceToken: current, sourceAddress: "1")
        XCTAssertEqual(change, CredentialChange(accountID: "ann@example.com", revokedDeviceTokens: 1, closesEverySession: false))
        XCTAssertNoThrow(try service.signIn(deviceToken: current, sourceAddress: "1"))
        XCTAssertThrowsError(try service.signIn(deviceToken: other, sourceAddress: "1"))
        XCTAssertThrowsError(try service.resetPassword(token: pendingReset, newPassword: "Another-Pass-8"),
                             "a pending reset link dies with the old password")
        XCTAssertNotNil(try signIn(newPassword))
    }
}
