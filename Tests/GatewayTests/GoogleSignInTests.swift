import COpenSSL
import Foundation
import TLSTestSupport
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

    func claims(audience: String = clientID, verified: Bool = true, subject: String = "1234567890",
                email: String = "gina@example.com") -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        return ["iss": "https://accounts.google.com", "aud": audience, "sub": subject, "email": email,
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

    @Test func googleIdentityNeverReplacesAnotherGoogleLink() throws {
        let key = SigningKey()
        let jwksPath = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString).json").path
        try key.jwks.write(to: URL(fileURLWithPath: jwksPath))
        defer { try? FileManager.default.removeItem(atPath: jwksPath) }
        let g = try RunningGateway { config in
            config.google = GoogleIDTokenVerifier(clientID: Self.clientID, keys: FileKeySetSource(path: jwksPath))
        }
        try g.signUp("gina")
        let first = try PresenceConnection(port: g.port)
        let linked = try first.call("signIn", ["method": "google", "idToken": key.token(claims(subject: "g-first")), "device": "web"])
        #expect((linked["profile"] as? [String: Any])?["googleLinked"] as? Bool == true, "\(linked)")
        // The address now belongs to another Google account (a recycled address, say).
        let other = try PresenceConnection(port: g.port)
        let refused = try other.call("signIn", ["method": "google", "idToken": key.token(claims(subject: "g-second")), "device": "web"])
        #expect(refused["type"] as? String == "error")
        #expect(refused["code"] as? String == "google_link_conflict", "\(refused)")
        // The first link still works.
        let again = try PresenceConnection(port: g.port)
        #expect(try again.call("signIn", ["method": "google", "idToken": key.token(claims(subject: "g-first")), "device": "web"])["type"] as? String == "ok")
    }

    /// `presenced` as deployed: keys fetched over HTTPS (here from a local server whose
    /// certificate comes from a test CA, given with --google-ca-file), and account creation
    /// by Google sign-in turned off.
    @Test func daemonFetchesKeysOverHTTPSAndCreatesNoAccountWhenCreationIsOff() throws {
        let key = SigningKey()
        let keyServer = try LocalKeySetServer(serving: key.jwks, maxAgeSeconds: 3_600)
        let (daemon, port, directory) = try Self.daemon(["--google-ca-file", keyServer.caFile, "--google-create-accounts", "false"],
                                                        keyServer: keyServer)
        defer { withExtendedLifetime(daemon) { try? FileManager.default.removeItem(at: directory) } }

        let stranger = try PresenceConnection(port: port, timeoutSeconds: 15)
        let refused = try stranger.call("signIn", ["method": "google", "idToken": key.token(claims(email: "new@example.com")), "device": "web"])
        #expect(refused["code"] as? String == "account_not_found", "\(refused)")
        #expect(keyServer.requestCount == 1, "the token was checked against keys fetched over HTTPS")

        try DaemonTests.signUp("gina", port: port)
        let member = try PresenceConnection(port: port, timeoutSeconds: 15)
        let ok = try member.call("signIn", ["method": "google", "idToken": key.token(claims()), "device": "web"])
        #expect(ok["type"] as? String == "ok", "\(ok)")
        #expect((ok["profile"] as? [String: Any])?["googleLinked"] as? Bool == true)
        #expect(keyServer.requestCount == 1, "cached for its max-age")
    }

    /// A key server whose certificate does not chain to the trusted CA is refused, and
    /// the operator's log says why.
    @Test func daemonRefusesAKeyServerItDoesNotTrustAndLogsWhy() throws {
        let key = SigningKey()
        let keyServer = try LocalKeySetServer(serving: key.jwks, maxAgeSeconds: 3_600)
        let (daemon, port, directory) = try Self.daemon(["--google-ca-file", keyServer.otherCAFile], keyServer: keyServer)
        defer { withExtendedLifetime(daemon) { try? FileManager.default.removeItem(at: directory) } }
        let c = try PresenceConnection(port: port, timeoutSeconds: 15)
        let refused = try c.call("signIn", ["method": "google", "idToken": key.token(claims()), "device": "web"])
        #expect(refused["code"] as? String == "google_token_rejected", "\(refused)")
        #expect(daemon.awaitError(matching: #"warning google-keys: .*certificate.*curl error (60).*Google signing keys not fetched"#,
                                  seconds: 10) == "60", "\(daemon.errorOutput)")
        #expect(keyServer.requestCount == 0, "no request got past the TLS handshake")
    }

    /// A real `presenced` with Google sign-in whose keys come from `keyServer`, on a data
    /// directory of its own. - Returns: it, its port and that directory (the caller removes it).
    static func daemon(_ arguments: [String], keyServer: LocalKeySetServer) throws -> (BuiltProduct.Running, Int, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("google-\(UUID().uuidString)")
        let daemon = try BuiltProduct.Running(
            try BuiltProduct("presenced"),
            ["--port", "0", "--admin-listen", "off", "--data-dir", directory.path, "--google-client-id", clientID,
             "--google-jwks-url", keyServer.url] + arguments,
            environment: BuiltProduct.cleanEnvironment())
        let portText = try #require(daemon.awaitError(matching: #"ports=(\d+)"#, seconds: 20), "\(daemon.errorOutput)")
        return (daemon, try #require(Int(portText)), directory)
    }
}
