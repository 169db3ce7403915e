import Foundation
import TLSTestSupport
import Synchronization
import XCTest
@testable import Accounts

/// Google's keys over real HTTPS (libcurl) from a local server with a test CA: caching for
/// max-age, refetching for a rotated key at most every 30 s, one fetch for concurrent first
/// use, and refusal of a certificate that does not chain to the trusted CA.
final class HTTPSKeySetSourceTests: XCTestCase {
    static let clientID = "test-client.apps.googleusercontent.com"
    let clock = TestClock()
    let first = sharedSigningKey
    static let second = TestSigningKey(kid: "test-key-rotated")

    func claims(subject: String = "110169484474386276334") -> [String: Any] {
        ["iss": "accounts.google.com", "aud": Self.clientID, "sub": subject, "email": "gia@gmail.com",
         "email_verified": true, "iat": clock.seconds, "exp": clock.seconds + 3_600]
    }

    func verifier(_ server: LocalKeySetServer, caFile: String?) -> GoogleIDTokenVerifier {
        GoogleIDTokenVerifier(clientID: Self.clientID, keys: HTTPSKeySetSource(url: server.url, caFile: caFile, now: clock.now),
                              now: clock.now)
    }

    func testRotatedKeyIsFetchedOnFirstUseButAtMostOncePer30Seconds() throws {
        let server = try LocalKeySetServer(serving: [first], maxAgeSeconds: 3_600)
        let google = verifier(server, caFile: server.caFile)
        XCTAssertEqual(try google.verify(first.token(claims: claims())).email, "gia@gmail.com")
        XCTAssertNoThrow(try google.verify(first.token(claims: claims())))
        XCTAssertEqual(server.requestCount, 1, "the second sign-in used the cached set")

        // Google rotates: the new key replaces the old one.
        try server.serve([Self.second])
        clock.advance(seconds: 10)
        XCTAssertThrowsError(try google.verify(Self.second.token(claims: claims()))) {
            XCTAssertEqual($0 as? AccountsError, .googleTokenRejected(.unknownKeyID))
        }
        XCTAssertEqual(server.requestCount, 1, "an unknown kid within 30 s of the last fetch does not refetch")
        clock.advance(seconds: 20)
        XCTAssertNoThrow(try google.verify(Self.second.token(claims: claims())), "30 s after the last fetch it does")
        XCTAssertEqual(server.requestCount, 2)
        // The old key is gone from the new set, and asking again is rate-limited once more.
        XCTAssertThrowsError(try google.verify(first.token(claims: claims())))
        XCTAssertEqual(server.requestCount, 2)
    }

    func testCachedSetIsUsedUntilItsMaxAgeRunsOut() throws {
        let server = try LocalKeySetServer(serving: [first], maxAgeSeconds: 120)
        let google = verifier(server, caFile: server.caFile)
        XCTAssertNoThrow(try google.verify(first.token(claims: claims())))
        clock.advance(seconds: 119)
        XCTAssertNoThrow(try google.verify(first.token(claims: claims())))
        XCTAssertEqual(server.requestCount, 1, "no refetch before max-age")
        clock.advance(seconds: 2)
        XCTAssertNoThrow(try google.verify(first.token(claims: claims())))
        XCTAssertEqual(server.requestCount, 2, "refetched once max-age passed")
    }

    func testConcurrentFirstUseFetchesOnce() throws {
        let server = try LocalKeySetServer(serving: [first], maxAgeSeconds: 3_600)
        try server.delayResponses(seconds: 0.5)
        let google = verifier(server, caFile: server.caFile)
        let token = first.token(claims: claims())
        let verified = Atomic<Int>(0)
        let done = DispatchGroup()
        for _ in 0..<8 {
            done.enter()
            Thread {
                if (try? google.verify(token)) != nil { verified.add(1, ordering: .relaxed) }
                done.leave()
            }.start()
        }
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertEqual(verified.load(ordering: .relaxed), 8, "every thread signed in")
        XCTAssertEqual(server.requestCount, 1, "eight threads, one fetch")
    }

    func testCertificateThatDoesNotChainToTheTrustedCAIsRefused() throws {
        let server = try LocalKeySetServer(serving: [first], maxAgeSeconds: 3_600)
        let token = first.token(claims: claims())
        for caFile in [server.otherCAFile, nil] {
            XCTAssertThrowsError(try verifier(server, caFile: caFile).verify(token), "CA file \(caFile ?? "system")") {
                XCTAssertEqual($0 as? AccountsError, .googleTokenRejected(.keySetUnavailable))
            }
            guard case .failure(let failure) = HTTPSKeySetSource.get(server.url, caFile: caFile, timeoutMilliseconds: 5_000) else {
                return XCTFail("an untrusted certificate was accepted")
            }
            XCTAssertEqual(failure.code, 60, "CURLE_PEER_FAILED_VERIFICATION: \(failure.message)")
        }
        XCTAssertEqual(server.requestCount, 0, "no request got past the TLS handshake")
        // The host name is checked too: the certificate names 127.0.0.1, not localhost.
        let byName = "https://localhost:\(server.port)/oauth2/v3/certs"
        guard case .failure(let mismatch) = HTTPSKeySetSource.get(byName, caFile: server.caFile, timeoutMilliseconds: 5_000) else {
            return XCTFail("a certificate for another host name was accepted")
        }
        XCTAssertEqual(mismatch.code, 60, mismatch.message)
        // Plain HTTP is not even attempted.
        guard case .failure(let plain) = HTTPSKeySetSource.get("http://127.0.0.1:\(server.port)/", caFile: nil, timeoutMilliseconds: 5_000) else {
            return XCTFail("http:// was fetched")
        }
        XCTAssertEqual(plain.code, 1, "CURLE_UNSUPPORTED_PROTOCOL: \(plain.message)")
        // Positive control: the same server and token with the right CA.
        XCTAssertNoThrow(try verifier(server, caFile: server.caFile).verify(token))
        XCTAssertEqual(server.requestCount, 1)
    }
}
