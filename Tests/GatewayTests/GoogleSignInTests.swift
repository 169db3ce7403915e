import COpenSSL
import Foundation
@testable import Accounts
@testable import Gateway
import PresenceClient
import Testing

/// Sign in with Google through the gateway: an RS256 ID token signed with a key made at
/// test time, checked against a JWKS file, as `presenced --google-client-id
/// --google-jwks-file` runs it.
@Suite struct GoogleSignInTests {
    static let clientID = "presence-test.apps.googleusercontent.com"

    final class SigningKey: @unchecked Sendable {
        let key = copenssl_rsa_generate(2048)!
        deinit { EVP_PKEY_free(key) }

        var jwks: Data {
            var n = [UInt8](repeating: 0, count: 1024), e = [UInt8](repeating: 0, count: 16)
            var nLength = n.count, eLength = e.count
            precondition(copenssl_rsa_export_public(key, &n, &nLength, &e, &eLength) == 1)
            let jwk = ["kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256",
                       "n": Base64URL.encode(Array(n.prefix(nLength))), "e": Base64URL.encode(Array(e.prefix(eLength)))]
            return try! JSONSerialization.data(withJSONObject: ["keys": [jwk]])
        }

        func token(_ claims: [String: Any]) -> String {
            func part(_ o: [String: Any]) -> String { Base64URL.encode(Array(try! JSONSerialization.data(withJSONObject: o))) }
            let input = part(["alg": "RS256", "kid": "k1", "typ": "JWT"]) + "." + part(claims)
            var signature = [UInt8](repeating: 0, count: 1024)
            var length = signature.count
            let data = Array(input.utf8)
            precondition(copenssl_rs256_sign(key, data, data.count, &signature, &length) == 1)
            return input + "." + Base64URL.encode(Array(signature.prefix(length)))
        }
    }

    func claims(audience: String = clientID, verified: Bool = true) -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        return ["iss": "https://accounts.google.com", "aud": audience, "sub": "1234567890", "email": "gina@example.com",
                "email_verified": verified, "iat": now, "exp": now + 600, "given_name": "Gina", "family_name": "G"]
    }

    @Test func googleIDTokenSignsInAndWrongAudienceOrUnverifiedMailIsRefused() throws {
        let key = SigningKey()
        let jwksPath = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json").path
        try key.jwks.write(to: URL(fileURLWithPath: jwksPath))
        defer { try? FileManager.default.removeItem(atPath: jwksPath) }
        let g = try RunningGateway { config in
            config.google = GoogleIDTokenVerifier(clientID: Self.clientID, keys: FileKeySetSource(path: jwksPath))
        }
        let c = try PresenceConnection(port: g.port)
        let wrongAudience = try c.call("signIn", ["method": "google", "idToken": key.token(claims(audience: "someone-else")), "device": "web"])
        #expect(wrongAudience["type"] as? String == "error")
        let unverified = try c.call("signIn", ["method": "google", "idToken": key.token(claims(verified: false)), "device": "web"])
        #expect(unverified["type"] as? String == "error")
        let ok = try c.call("signIn", ["method": "google", "idToken": key.token(claims()), "device": "web", "staySignedIn": true])
        #expect(ok["type"] as? String == "ok")
        let profile = try #require(ok["profile"] as? [String: Any])
        #expect(profile["id"] as? String == "gina@example.com")
        #expect(profile["googleLinked"] as? Bool == true)
    }
}
