import COpenSSL
import Foundation
import Synchronization
import XCTest
@testable import Accounts

final class GoogleIDTokenVerifierTests: XCTestCase {
    static let clientID = "test-client.apps.googleusercontent.com"
    let key = sharedSigningKey
    let clock = TestClock()

    func verifier(keys: [TestSigningKey]? = nil, skew: Int64 = 60) throws -> GoogleIDTokenVerifier {
        let set = try JSONWebKeySet(json: keySetJSON(keys ?? [key]))
        return GoogleIDTokenVerifier(clientID: Self.clientID, keys: FixedKeySetSource(set: set),
                                     allowedClockSkewSeconds: skew, now: clock.now)
    }

    func claims(_ changes: [String: Any?] = [:]) -> [String: Any] {
        var claims: [String: Any] = [
            "iss": "https://accounts.google.com", "aud": Self.clientID, "sub": "110169484474386276334",
            "email": "Gia@Gmail.com", "email_verified": true, "iat": clock.seconds, "exp": clock.seconds + 3_600,
            "given_name": "Gia", "family_name": "Google",
        ]
        for (name, value) in changes { claims[name] = value }
        return claims
    }

    func assertRejected(_ token: String, _ reason: GoogleTokenRejection, file: StaticString = #filePath, line: UInt = #line) throws {
        let verifier = try verifier()
        XCTAssertThrowsError(try verifier.verify(token), file: file, line: line) { error in
            XCTAssertEqual(error as? AccountsError, .googleTokenRejected(reason), file: file, line: line)
        }
    }

    func testValidTokenYieldsTheIdentity() throws {
        for issuer in GoogleIDTokenVerifier.issuers {
            let identity = try verifier().verify(key.token(claims: claims(["iss": issuer])))
            XCTAssertEqual(identity, GoogleIdentity(subject: "110169484474386276334", email: "Gia@Gmail.com",
                                                    givenName: "Gia", familyName: "Google"))
        }
        // aud may be an array; email_verified may be the string "true".
        XCTAssertNoThrow(try verifier().verify(key.token(claims: claims(["aud": ["other", Self.clientID], "email_verified": "true"]))))
    }

    func testBadSignatureIsRejected() throws {
        let token = key.token(claims: claims())
        let parts = token.split(separator: ".").map(String.init)
        // The same header and claims signed by another key,
        let impostor = TestSigningKey(kid: key.kid)
        try assertRejected(impostor.token(claims: claims()), .badSignature)
        // and a genuine signature over altered claims.
        try assertRejected(parts[0] + "." + TestSigningKey.part(claims(["email": "evil@gmail.com"])) + "." + parts[2], .badSignature)
    }

    func testClaimRejectionsTable() throws {
        let table: [(String, [String: Any?], GoogleTokenRejection)] = [
            ("wrong aud", ["aud": "someone-else.apps.googleusercontent.com"], .wrongAudience),
            ("aud array without us", ["aud": ["a", "b"]], .wrongAudience),
            ("no aud", ["aud": nil], .wrongAudience),
            ("wrong iss", ["iss": "https://evil.example.com"], .wrongIssuer),
            ("iss without scheme variant", ["iss": "http://accounts.google.com"], .wrongIssuer),
            ("expired beyond skew", ["exp": clock.seconds - 61], .expired),
            ("no exp", ["exp": nil], .missingClaim("exp")),
            ("issued in the future", ["iat": clock.seconds + 120], .notYetValid),
            ("not before in the future", ["nbf": clock.seconds + 120], .notYetValid),
            ("unverified e-mail", ["email_verified": false], .emailNotVerified),
            ("e-mail verification missing", ["email_verified": nil], .emailNotVerified),
            ("string false", ["email_verified": "false"], .emailNotVerified),
            ("no subject", ["sub": nil], .missingClaim("sub")),
            ("no e-mail", ["email": nil], .missingClaim("email")),
        ]
        for (name, changes, reason) in table {
            let token = key.token(claims: claims(changes))
            XCTAssertThrowsError(try verifier().verify(token), name) { error in
                XCTAssertEqual(error as? AccountsError, .googleTokenRejected(reason), name)
            }
        }
    }

    func testClockSkewIsAllowedInBothDirections() throws {
        XCTAssertNoThrow(try verifier().verify(key.token(claims: claims(["exp": clock.seconds - 59]))))
        XCTAssertNoThrow(try verifier().verify(key.token(claims: claims(["iat": clock.seconds + 59]))))
        XCTAssertThrowsError(try verifier(skew: 0).verify(key.token(claims: claims(["exp": clock.seconds]))))
    }

    func testAlgorithmsOtherThanRS256AreRejectedBeforeAnyKeyIsUsed() throws {
        let body = TestSigningKey.part(claims())
        // alg "none" with an empty signature: the classic bypass.
        try assertRejected(TestSigningKey.part(["alg": "none", "kid": key.kid]) + "." + body + ".", .unsupportedAlgorithm("none"))
        // HS256 keyed with the public modulus: the classic algorithm confusion.
        let header = TestSigningKey.part(["alg": "HS256", "kid": key.kid])
        let input = Array((header + "." + body).utf8)
        let secret = Base64URL.decode(key.jwk["n"]!)!
        var mac = [UInt8](repeating: 0, count: 32)
        var macLength: UInt32 = 32
        _ = HMAC(EVP_sha256(), secret, Int32(secret.count), input, input.count, &mac, &macLength)
        try assertRejected(header + "." + body + "." + Base64URL.encode(mac), .unsupportedAlgorithm("HS256"))
        for alg in ["RS512", "PS256", "ES256", "rs256"] {
            try assertRejected(key.token(header: ["alg": alg, "kid": key.kid], claims: claims()), .unsupportedAlgorithm(alg))
        }
    }

    func testUnknownOrMissingKeyIDIsRejected() throws {
        try assertRejected(key.token(header: ["alg": "RS256", "kid": "rotated-away"], claims: claims()), .unknownKeyID)
        try assertRejected(key.token(header: ["alg": "RS256"], claims: claims()), .unknownKeyID)
    }

    func testMalformedTokensAreRejected() throws {
        let good = key.token(claims: claims())
        let parts = good.split(separator: ".").map(String.init)
        let table = [
            "", "abc", "a.b", "a.b.c.d", parts[0] + "." + parts[1],
            parts[0] + "=." + parts[1] + "." + parts[2],                 // padding is not base64url
            "e30." + parts[1] + "." + parts[2],                           // header {} has no alg
            Base64URL.encode(Array("[1]".utf8)) + "." + parts[1] + "." + parts[2],
            parts[0] + "." + Base64URL.encode(Array("not json".utf8)) + "." + parts[2],
            String(repeating: "A", count: 20_000) + "." + parts[1] + "." + parts[2],
        ]
        for token in table { try assertRejected(token, .malformed) }
    }

    func testKeySetSkipsKeysItCannotUse() throws {
        var weak = TestSigningKey(kid: "weak", bits: 1024).jwk
        weak["kid"] = "weak"
        var encryption = key.jwk
        encryption["kid"] = "enc"
        encryption["use"] = "enc"
        let document: [String: Any] = ["keys": [key.jwk, weak, encryption, ["kty": "EC", "kid": "ec"], ["kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"]]]
        let set = try JSONWebKeySet(json: JSONSerialization.data(withJSONObject: document))
        XCTAssertEqual(Array(set.keys.keys), [key.kid])
        XCTAssertThrowsError(try JSONWebKeySet(json: Data("{}".utf8)))
    }

    func testFileKeySetSourceLoadsTheJWKSFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.path("jwks.json")
        try keySetJSON([key]).write(to: URL(fileURLWithPath: path))
        let verifier = GoogleIDTokenVerifier(clientID: Self.clientID, keys: FileKeySetSource(path: path, now: clock.now), now: clock.now)
        XCTAssertEqual(try verifier.verify(key.token(claims: claims())).subject, "110169484474386276334")
        let missing = GoogleIDTokenVerifier(clientID: Self.clientID, keys: FileKeySetSource(path: directory.path("none")), now: clock.now)
        XCTAssertThrowsError(try missing.verify(key.token(claims: claims()))) { error in
            XCTAssertEqual(error as? AccountsError, .googleTokenRejected(.keySetUnavailable))
        }
    }

    func testCachedKeySetHonoursMaxAgeAndRefetchesForNewKeysAtMostOncePerMinute() throws {
        let rotated = TestSigningKey(kid: "test-key-2")
        final class FakeEndpoint: Sendable {
            let served: Mutex<[TestSigningKey]>
            let fetches = Mutex(0)
            init(_ keys: [TestSigningKey]) { served = Mutex(keys) }
        }
        let endpoint = FakeEndpoint([key])
        let source = CachedKeySetSource(minimumRefreshSeconds: 60, now: clock.now) {
            endpoint.fetches.withLock { $0 += 1 }
            return (keySetJSON(endpoint.served.withLock { $0 }), "public, max-age=300, must-revalidate")
        }
        let verifier = GoogleIDTokenVerifier(clientID: Self.clientID, keys: source, now: clock.now)
        XCTAssertNoThrow(try verifier.verify(key.token(claims: claims())))
        XCTAssertNoThrow(try verifier.verify(key.token(claims: claims())))
        XCTAssertEqual(endpoint.fetches.withLock { $0 }, 1, "cached within max-age")

        endpoint.served.withLock { $0 = [key, rotated] }
        // An unknown kid inside the first minute does not refetch (no fetch storms)...
        XCTAssertThrowsError(try verifier.verify(rotated.token(claims: claims())))
        XCTAssertEqual(endpoint.fetches.withLock { $0 }, 1)
        // ...after it, it does.
        clock.advance(seconds: 61)
        XCTAssertNoThrow(try verifier.verify(rotated.token(claims: claims())))
        XCTAssertEqual(endpoint.fetches.withLock { $0 }, 2)
        // Expiry (max-age 300 s) refetches without being asked.
        clock.advance(seconds: 301)
        XCTAssertNoThrow(try verifier.verify(key.token(claims: claims())))
        XCTAssertEqual(endpoint.fetches.withLock { $0 }, 3)
    }

    func testCacheControlMaxAgeParsing() {
        let table: [(String, Int64?)] = [
            ("public, max-age=19930, must-revalidate, no-transform", 19_930),
            ("max-age=\"60\"", 60), ("MAX-AGE = 5", 5), ("no-store", 0), ("no-cache, max-age=60", 0),
            ("private", nil), ("max-age=abc", nil), ("max-age=-5", 0),
        ]
        for (header, expected) in table { XCTAssertEqual(CacheControl.maxAge(header), expected, header) }
    }
}
