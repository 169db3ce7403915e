import COpenSSL
import Foundation
import TLSTestSupport
import Synchronization
@testable import Accounts
import Storage
import StorageTestSupport

/// A fresh directory under the system temp dir, removed when the test ends.
final class TemporaryDirectory {
    let url: URL
    init() {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("accounts-tests-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// A clock the test moves by hand.
final class TestClock: Sendable {
    private let milliseconds = Mutex<Int64>(1_750_000_000_000)
    var now: MillisecondClock { { [self] in milliseconds.withLock { $0 } } }
    func advance(milliseconds delta: Int64) { milliseconds.withLock { $0 += delta } }
    func advance(seconds delta: Int64) { advance(milliseconds: delta * 1_000) }
    var seconds: Int64 { milliseconds.withLock { $0 } / 1_000 }
}

/// Cheap scrypt for tests that are not about the cost (1 MiB, ~2 ms).
let testHasher = PasswordHasher(parameters: ScryptParameters(logN: 10, r: 8, p: 1))

/// A password that meets the policy.
let goodPassword = "Correct-Horse-9"

/// An RSA key made at test time, standing in for one of Google's signing keys.
final class TestSigningKey: @unchecked Sendable {
    let key: OpaquePointer
    let kid: String

    init(kid: String, bits: UInt32 = 2048) {
        key = copenssl_rsa_generate(bits)!
        self.kid = kid
    }
    deinit { EVP_PKEY_free(key) }

    /// The public half as a JWK.
    var jwk: [String: String] {
        var n = [UInt8](repeating: 0, count: 1024), e = [UInt8](repeating: 0, count: 16)
        var nLength = n.count, eLength = e.count
        precondition(copenssl_rsa_export_public(key, &n, &nLength, &e, &eLength) == 1)
        return ["kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                "n": Base64URL.encode(Array(n.prefix(nLength))), "e": Base64URL.encode(Array(e.prefix(eLength)))]
    }

    func sign(_ data: [UInt8]) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: 1024)
        var length = signature.count
        precondition(copenssl_rs256_sign(key, data, data.count, &signature, &length) == 1)
        return Array(signature.prefix(length))
    }

    /// A compact JWS over header and claims, signed RS256 with this key.
    func token(header: [String: Any]? = nil, claims: [String: Any]) -> String {
        let header = header ?? ["alg": "RS256", "kid": kid, "typ": "JWT"]
        let signingInput = Self.part(header) + "." + Self.part(claims)
        return signingInput + "." + Base64URL.encode(sign(Array(signingInput.utf8)))
    }

    static func part(_ object: [String: Any]) -> String {
        Base64URL.encode(Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])))
    }
}

func keySetJSON(_ keys: [TestSigningKey]) -> Data {
    try! JSONSerialization.data(withJSONObject: ["keys": keys.map(\.jwk)])
}

/// A JWKS source returning a fixed set.
struct FixedKeySetSource: JSONWebKeySetSource {
    let set: JSONWebKeySet
    func keySet(refresh: Bool) throws(AccountsError) -> JSONWebKeySet { set }
}

/// Everything an account-service test needs, over a real SQLite file in a temp dir.
final class AccountsFixture {
    static let clientID = "test-client.apps.googleusercontent.com"
    let directory = TemporaryDirectory()
    let clock = TestClock()
    let database: Database
    let signingKey: TestSigningKey
    let service: AccountService

    init(configuration: AccountsConfiguration = AccountsConfiguration(), hasher: PasswordHasher = testHasher,
         signingKey: TestSigningKey) throws {
        database = try Database(location: TestStorage.location(directory.path("accounts.sqlite")))
        self.signingKey = signingKey
        let keys = try JSONWebKeySet(json: keySetJSON([signingKey]))
        let google = GoogleIDTokenVerifier(clientID: Self.clientID, keys: FixedKeySetSource(set: keys), now: clock.now)
        service = AccountService(
            database: database, configuration: configuration, hasher: hasher,
            signInLimiter: RateLimiter(perAccount: .signInPerAccount, perAddress: .signInPerAddress, now: clock.now),
            resetLimiter: RateLimiter(perAccount: .resetPerAccount, perAddress: .resetPerAddress, now: clock.now),
            google: google, now: clock.now)
    }

    /// Google-like claims, valid now, for `email`.
    func googleClaims(email: String, subject: String = "1234567890") -> [String: Any] {
        ["iss": "https://accounts.google.com", "aud": Self.clientID, "sub": subject, "email": email,
         "email_verified": true, "iat": clock.seconds, "exp": clock.seconds + 3_600,
         "given_name": "Gia", "family_name": "Google"]
    }

    func count(_ table: String) throws -> Int {
        try database.queryFirst("SELECT count(*) FROM \(table)") { $0.int(0) } ?? -1
    }
}

/// One key for the whole test run: RSA key generation costs ~100 ms.
let sharedSigningKey = TestSigningKey(kid: "test-key-1")

extension LocalKeySetServer {
    /// A key-set server serving these test keys.
    convenience init(serving keys: [TestSigningKey], maxAgeSeconds: Int) throws {
        try self.init(serving: keySetJSON(keys), maxAgeSeconds: maxAgeSeconds)
    }

    /// Replaces the served keys (a rotation at Google).
    func serve(_ keys: [TestSigningKey]) throws {
        try serve(keySetJSON(keys))
    }
}
