import Foundation
import XCTest
@testable import Accounts
import Storage

/// Password, device-token and Google sign-in; logout; brute-force limits.
final class SignInTests: XCTestCase {
    var fixture: AccountsFixture!
    var service: AccountService { fixture.service }

    override func setUpWithError() throws {
        fixture = try AccountsFixture(signingKey: sharedSigningKey)
        _ = try service.signUp(email: "ann@example.com", firstName: "Ann", lastName: "Lee", password: goodPassword,
                               wantsOfflineEmail: false)
    }

    func signIn(_ email: String = "ann@example.com", _ password: String = goodPassword, stay: Bool = false,
                from address: String = "10.0.0.1") throws -> SignInResult {
        try service.signIn(email: email, password: password, device: .mobile, staySignedIn: stay, sourceAddress: address)
    }

    func testPasswordSignInReturnsTheProfileAndNoTokenUnlessAskedToStay() throws {
        let result = try signIn("ANN@example.com")
        XCTAssertEqual(result.profile.id, "ann@example.com")
        XCTAssertEqual(result.deviceKind, .mobile)
        XCTAssertNil(result.deviceToken)
        XCTAssertEqual(try fixture.count("device_tokens"), 0)
    }

    func testUnknownAccountAndWrongPasswordFailIdentically() throws {
        var errors: [AccountsError] = []
        for (email, password) in [("ann@example.com", "Wrong-Pass-1"), ("nobody@example.com", goodPassword), ("not an address", goodPassword)] {
            XCTAssertThrowsError(try signIn(email, password)) { errors.append($0 as! AccountsError) }
        }
        XCTAssertEqual(errors, [.invalidCredentials, .invalidCredentials, .invalidCredentials])
        XCTAssertEqual(Set(errors.map(\.message)).count, 1)
    }

    /// An unknown address must cost what a known one costs (one scrypt against a dummy
    /// hash), or the time of a failed sign-in tells which addresses have accounts. Each
    /// attempt uses a fresh account and source address, so no rate limit cuts it short; the
    /// medians are compared. Positive control: a rate-limited attempt, which hashes
    /// nothing, measures far cheaper, so the comparison can see a path without scrypt.
    func testUnknownAccountCostsAScryptLikeAKnownOne() throws {
        let slow = PasswordHasher(parameters: ScryptParameters(logN: 13, r: 8, p: 1))
        fixture = try AccountsFixture(hasher: slow, signingKey: sharedSigningKey)
        let rounds = 7
        for i in 0..<rounds {
            _ = try service.signUp(email: "known\(i)@example.com", firstName: "K", lastName: "N", password: goodPassword,
                                   wantsOfflineEmail: false)
        }
        func milliseconds(_ body: () throws -> Void) rethrows -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        var known: [Double] = [], unknown: [Double] = [], limited: [Double] = []
        for i in 0..<rounds {
            known.append(try milliseconds {
                XCTAssertThrowsError(try signIn("known\(i)@example.com", "Wrong-Pass-1", from: "10.3.0.\(i)"))
            })
            unknown.append(try milliseconds {
                XCTAssertThrowsError(try signIn("nobody\(i)@example.com", "Wrong-Pass-1", from: "10.4.0.\(i)"))
            })
        }
        // Exhaust one account's burst, then time the refusals that follow.
        for i in 0..<RateLimit.signInPerAccount.burst { _ = try? signIn("known0@example.com", "Wrong-Pass-1", from: "10.5.0.\(i)") }
        for i in 0..<rounds {
            limited.append(try milliseconds {
                XCTAssertThrowsError(try signIn("known0@example.com", "Wrong-Pass-1", from: "10.6.0.\(i)")) {
                    XCTAssertEqual($0 as? AccountsError, .rateLimited(retryAfterSeconds: 180))
                }
            })
        }
        let k = median(known), u = median(unknown), l = median(limited)
        XCTAssertGreaterThan(u, k * 0.5, "unknown \(u) ms vs known \(k) ms: the unknown path skips the hash")
        XCTAssertLessThan(u, k * 2.0, "unknown \(u) ms vs known \(k) ms")
        XCTAssertLessThan(l, k * 0.25, "control: a refusal without scrypt (\(l) ms) must measure far below one with it (\(k) ms)")
    }

    func testStaySignedInIssuesATokenStoredOnlyAsItsHash() throws {
        let token = try XCTUnwrap(signIn(stay: true).deviceToken)
        XCTAssertGreaterThanOrEqual(Base64URL.decode(token)?.count ?? 0, 32, "256-bit")
        let stored = try fixture.database.query("SELECT token_hash FROM device_tokens") { $0.blob(0) }
        XCTAssertEqual(stored, [SecretToken.sha256(Array(token.utf8))])
        for file in [fixture.database.path, fixture.database.path + "-wal"] {
            let raw = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
            XCTAssertNil(raw.range(of: Data(token.utf8)), "the token itself is nowhere in \(file)")
        }
    }

    func testTokenSignInRotatesTheToken() throws {
        let first = try XCTUnwrap(signIn(stay: true).deviceToken)
        let result = try service.signIn(deviceToken: first, sourceAddress: "10.0.0.2")
        XCTAssertEqual(result.profile.id, "ann@example.com")
        XCTAssertEqual(result.deviceKind, .mobile, "the device keeps its kind")
        let second = try XCTUnwrap(result.deviceToken)
        XCTAssertNotEqual(first, second)
        // Using the new token ends the old one's grace at once.
        let third = try XCTUnwrap(service.signIn(deviceToken: second, sourceAddress: "10.0.0.2").deviceToken)
        XCTAssertThrowsError(try service.signIn(deviceToken: first, sourceAddress: "10.0.0.2")) { error in
            XCTAssertEqual(error as? AccountsError, .invalidDeviceToken, "the old token died")
        }
        XCTAssertNoThrow(try service.signIn(deviceToken: third, sourceAddress: "10.0.0.2"))
    }

    func testRotatedTokenStillWorksWithinTheGraceWhenTheReplacementWasNeverUsed() throws {
        let first = try XCTUnwrap(signIn(stay: true).deviceToken)
        _ = try service.signIn(deviceToken: first, sourceAddress: "1")    // its reply is "lost"
        fixture.clock.advance(seconds: 59)
        let retry = try service.signIn(deviceToken: first, sourceAddress: "1")
        XCTAssertEqual(retry.profile.id, "ann@example.com")
        let current = try XCTUnwrap(retry.deviceToken)
        // The grace runs from the first rotation: a retry does not extend it.
        fixture.clock.advance(seconds: 2)
        XCTAssertThrowsError(try service.signIn(deviceToken: first, sourceAddress: "1")) {
            XCTAssertEqual($0 as? AccountsError, .invalidDeviceToken)
        }
        XCTAssertNoThrow(try service.signIn(deviceToken: current, sourceAddress: "1"), "the retry's token is the device's token")
        XCTAssertEqual(try fixture.count("device_tokens"), 1, "one device, however often it rotated")
    }

    func testRotatedTokenStopsWorkingAfterTheGracePeriod() throws {
        let first = try XCTUnwrap(signIn(stay: true).deviceToken)
        let second = try XCTUnwrap(service.signIn(deviceToken: first, sourceAddress: "1").deviceToken)
        fixture.clock.advance(milliseconds: AccountsConfiguration().deviceTokenGraceMilliseconds)
        XCTAssertThrowsError(try service.signIn(deviceToken: first, sourceAddress: "1")) {
            XCTAssertEqual($0 as? AccountsError, .invalidDeviceToken)
        }
        XCTAssertNoThrow(try service.signIn(deviceToken: second, sourceAddress: "1"))
    }

    func testLogOutRevokesTheCurrentAndThePreviousToken() throws {
        let first = try XCTUnwrap(signIn(stay: true).deviceToken)
        let second = try XCTUnwrap(service.signIn(deviceToken: first, sourceAddress: "1").deviceToken)
        XCTAssertEqual(try service.logOut(deviceToken: second), "ann@example.com")
        for token in [first, second] {
            XCTAssertThrowsError(try service.signIn(deviceToken: token, sourceAddress: "1")) {
                XCTAssertEqual($0 as? AccountsError, .invalidDeviceToken)
            }
        }
    }

    func testTokenSignInReturnsTheCurrentProfile() throws {
        let token = try XCTUnwrap(signIn(stay: true).deviceToken)
        _ = try service.updateProfile(accountID: "ann@example.com", ProfileEdit(lastName: "Lee-Park"))
        XCTAssertEqual(try service.signIn(deviceToken: token, sourceAddress: "1").profile.lastName, "Lee-Park")
    }

    func testLogOutRevokesThatDeviceOnly() throws {
        let phone = try XCTUnwrap(signIn(stay: true).deviceToken)
        let laptop = try XCTUnwrap(signIn(stay: true).deviceToken)
        XCTAssertEqual(try service.logOut(deviceToken: phone), "ann@example.com")
        XCTAssertNil(try service.logOut(deviceToken: phone), "already revoked")
        XCTAssertThrowsError(try service.signIn(deviceToken: phone, sourceAddress: "1"))
        XCTAssertNoThrow(try service.signIn(deviceToken: laptop, sourceAddress: "1"))
        XCTAssertEqual(try service.revokeAllDeviceTokens(accountID: "ann@example.com"), 1)
    }

    /// The gateway's storm path: the token is checked against the rate limit on a worker,
    /// and found and rotated later in the storage writer's transaction, on another
    /// connection. The result is the same sign-in as `signIn(deviceToken:)`.
    func testTokenSignInCompletedInAnotherConnectionsTransactionRotatesTheToken() throws {
        let first = try XCTUnwrap(signIn(stay: true).deviceToken)
        let writer = try Database(location: fixture.database.location)
        let pending = try service.beginSignIn(deviceToken: first, sourceAddress: "1")
        let result = try XCTUnwrap(try writer.transaction { try pending.complete(in: writer) })
        XCTAssertEqual(result.profile.id, "ann@example.com")
        XCTAssertEqual(result.deviceKind, .mobile)
        let second = try XCTUnwrap(result.deviceToken)
        XCTAssertNotEqual(second, first)
        XCTAssertEqual(result.deviceTokenID, try DeviceTokenStore(writer).active(accountID: "ann@example.com").first?.id)
        // The new token is the device's; using it ends the old one's grace.
        XCTAssertNoThrow(try service.signIn(deviceToken: second, sourceAddress: "1"))
        XCTAssertThrowsError(try service.signIn(deviceToken: first, sourceAddress: "1")) {
            XCTAssertEqual($0 as? AccountsError, .invalidDeviceToken)
        }
    }

    /// A token revoked (logged out) between the check and the transaction: nothing is
    /// rotated and the sign-in is refused, with the token it used still revoked.
    func testTokenRevokedBeforeTheTransactionIsNotSignedIn() throws {
        let token = try XCTUnwrap(signIn(stay: true).deviceToken)
        let pending = try service.beginSignIn(deviceToken: token, sourceAddress: "1")
        XCTAssertEqual(try service.logOut(deviceToken: token), "ann@example.com")
        XCTAssertNil(try fixture.database.transaction { try pending.complete(in: fixture.database) })
        XCTAssertEqual(try DeviceTokenStore(fixture.database).active(accountID: "ann@example.com"), [])
        XCTAssertThrowsError(try service.signIn(deviceToken: token, sourceAddress: "1"))
    }

    /// An unknown token finds nothing; the positive control: a known one completes.
    func testUnknownTokenIsNotSignedInAndAKnownOneIs() throws {
        XCTAssertNil(try fixture.database.transaction {
            try service.beginSignIn(deviceToken: "no-such-token", sourceAddress: "1").complete(in: fixture.database)
        })
        let token = try XCTUnwrap(signIn(stay: true).deviceToken)
        XCTAssertNotNil(try fixture.database.transaction {
            try service.beginSignIn(deviceToken: token, sourceAddress: "1").complete(in: fixture.database)
        })
    }

    func testRepeatedFailuresAreRateLimitedPerAccountEvenWithTheRightPassword() throws {
        for i in 0..<RateLimit.signInPerAccount.burst {
            XCTAssertThrowsError(try signIn("ann@example.com", "Wrong-Pass-1", from: "10.1.0.\(i)"))
        }
        XCTAssertThrowsError(try signIn(from: "10.9.9.9")) { error in
            XCTAssertEqual(error as? AccountsError, .rateLimited(retryAfterSeconds: 180))
        }
        // Unknown accounts are limited the same way: the limit reveals nothing.
        for i in 0..<RateLimit.signInPerAccount.burst { _ = try? signIn("nobody@example.com", "x", from: "10.2.0.\(i)") }
        XCTAssertThrowsError(try signIn("nobody@example.com", "x", from: "10.9.9.8")) { error in
            XCTAssertEqual(error as? AccountsError, .rateLimited(retryAfterSeconds: 180))
        }
        fixture.clock.advance(seconds: 180)
        XCTAssertNoThrow(try signIn(from: "10.9.9.9"))
    }

    func testRepeatedFailuresAreRateLimitedPerAddress() throws {
        for i in 0..<RateLimit.signInPerAddress.burst {
            _ = try? signIn("user\(i)@example.com", "Wrong-Pass-1", from: "192.0.2.1")
        }
        XCTAssertThrowsError(try signIn(from: "192.0.2.1")) { error in
            XCTAssertEqual(error as? AccountsError, .rateLimited(retryAfterSeconds: 30))
        }
        XCTAssertThrowsError(try service.signIn(deviceToken: "guess", sourceAddress: "192.0.2.1")) { error in
            XCTAssertEqual(error as? AccountsError, .rateLimited(retryAfterSeconds: 30))
        }
        XCTAssertNoThrow(try signIn(from: "192.0.2.2"))
    }

    func testOutdatedHashIsUpgradedOnSignIn() throws {
        let old = PasswordHasher(parameters: ScryptParameters(logN: 9, r: 8, p: 1)).hash(goodPassword)
        try AccountStore(fixture.database).setPasswordHash(id: "ann@example.com", old, at: 0)
        _ = try signIn()
        let upgraded = try XCTUnwrap(AccountStore(fixture.database).find(id: "ann@example.com")?.passwordHash)
        XCTAssertTrue(upgraded.hasPrefix("$scrypt$ln=10,"), upgraded)
        XCTAssertNoThrow(try signIn())
    }

    // MARK: - Google

    func testGoogleSignInLinksTheAccountWithTheSameEmail() throws {
        let token = fixture.signingKey.token(claims: fixture.googleClaims(email: "Ann@Example.com", subject: "g-ann"))
        let result = try service.signIn(googleIDToken: token, device: .web, staySignedIn: true, sourceAddress: "1")
        XCTAssertEqual(result.profile.id, "ann@example.com")
        XCTAssertTrue(result.profile.isGoogleLinked)
        XCTAssertNotNil(result.deviceToken)
        XCTAssertEqual(try AccountStore(fixture.database).find(googleSubject: "g-ann")?.id, "ann@example.com")
        XCTAssertEqual(try fixture.count("accounts"), 1)
    }

    func testGoogleSignInFindsTheLinkedAccountEvenAfterTheGmailAddressChanged() throws {
        try AccountStore(fixture.database).linkGoogle(id: "ann@example.com", subject: "g-ann", at: 0)
        let token = fixture.signingKey.token(claims: fixture.googleClaims(email: "renamed@gmail.com", subject: "g-ann"))
        XCTAssertEqual(try service.signIn(googleIDToken: token, device: .web, staySignedIn: false, sourceAddress: "1").profile.id,
                       "ann@example.com")
    }

    func testGoogleSignInCreatesAPasswordlessAccountForANewAddress() throws {
        let token = fixture.signingKey.token(claims: fixture.googleClaims(email: "gia@gmail.com", subject: "g-gia"))
        let profile = try service.signIn(googleIDToken: token, device: .desktop, staySignedIn: false, sourceAddress: "1").profile
        XCTAssertEqual([profile.id, profile.firstName, profile.lastName], ["gia@gmail.com", "Gia", "Google"])
        XCTAssertFalse(profile.hasPassword)
        // Without a password, password sign-in fails like any wrong password.
        XCTAssertThrowsError(try signIn("gia@gmail.com", "")) { XCTAssertEqual($0 as? AccountsError, .invalidCredentials) }
    }

    func testGoogleSignInWithoutAccountFailsWhenCreationIsOff() throws {
        var configuration = AccountsConfiguration()
        configuration.createsAccountsForGoogleSignIn = false
        fixture = try AccountsFixture(configuration: configuration, signingKey: sharedSigningKey)
        let token = fixture.signingKey.token(claims: fixture.googleClaims(email: "gia@gmail.com"))
        XCTAssertThrowsError(try service.signIn(googleIDToken: token, device: .web, staySignedIn: false, sourceAddress: "1")) {
            XCTAssertEqual($0 as? AccountsError, .accountNotFound)
        }
    }

    func testGoogleSignInNeverReplacesAnotherGoogleLink() throws {
        try AccountStore(fixture.database).linkGoogle(id: "ann@example.com", subject: "g-ann", at: 0)
        let other = fixture.signingKey.token(claims: fixture.googleClaims(email: "ann@example.com", subject: "g-someone-else"))
        XCTAssertThrowsError(try service.signIn(googleIDToken: other, device: .web, staySignedIn: true, sourceAddress: "1")) {
            XCTAssertEqual($0 as? AccountsError, .googleLinkConflict)
            XCTAssertEqual(($0 as? AccountsError)?.code, "google_link_conflict")
            XCTAssertEqual(($0 as? AccountsError)?.httpStatus, 409)
        }
        XCTAssertEqual(try AccountStore(fixture.database).find(id: "ann@example.com")?.googleSubject, "g-ann", "the link is untouched")
        XCTAssertEqual(try fixture.count("device_tokens"), 0)
        // The linked subject still signs in (the refusal is about the subject, not the address).
        let linked = fixture.signingKey.token(claims: fixture.googleClaims(email: "ann@example.com", subject: "g-ann"))
        XCTAssertEqual(try service.signIn(googleIDToken: linked, device: .web, staySignedIn: false, sourceAddress: "1").profile.id,
                       "ann@example.com")
    }

    func testRejectedGoogleTokenSignsNobodyIn() throws {
        var claims = fixture.googleClaims(email: "ann@example.com")
        claims["email_verified"] = false
        let token = fixture.signingKey.token(claims: claims)
        XCTAssertThrowsError(try service.signIn(googleIDToken: token, device: .web, staySignedIn: true, sourceAddress: "1")) {
            XCTAssertEqual($0 as? AccountsError, .googleTokenRejected(.emailNotVerified))
        }
        XCTAssertEqual(try fixture.count("device_tokens"), 0)
        XCTAssertNil(try AccountStore(fixture.database).find(id: "ann@example.com")?.googleSubject)
    }

    /// Not an assertion on speed: token sign-ins per second, for the record. Each is one
    /// transaction with an fsync (synchronous=FULL) on this machine's temp disk.
    func testMeasureTokenSignInsPerSecondForTheRecord() throws {
        var token = try XCTUnwrap(signIn(stay: true).deviceToken)
        let rounds = 300
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<rounds { token = try XCTUnwrap(service.signIn(deviceToken: token, sourceAddress: "1").deviceToken) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print(String(format: "token sign-in with rotation: %.0f per second (%.2f ms each)", Double(rounds) / seconds,
                     seconds * 1_000 / Double(rounds)))
    }
}
