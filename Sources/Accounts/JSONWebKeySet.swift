import COpenSSL
import Foundation
import Synchronization

/// An RSA public key held by OpenSSL, built from a JWK's `n` and `e`.
///
/// `@unchecked Sendable`: the EVP_PKEY is never mutated after creation, and OpenSSL 3
/// allows concurrent verifications with one key as long as each uses its own
/// EVP_MD_CTX, which `verifyRS256` creates per call.
public final class RSAPublicKey: @unchecked Sendable {
    private let key: OpaquePointer
    /// Shorter RSA keys are refused: 2048 bits is the floor of NIST SP 800-131A.
    public static let minimumBits = 2048

    /// - Parameters:
    ///   - modulus: big-endian `n`.
    ///   - exponent: big-endian `e`.
    /// - Returns: nil if OpenSSL rejects the numbers or the key is under `minimumBits`.
    public init?(modulus: [UInt8], exponent: [UInt8]) {
        guard !modulus.isEmpty, !exponent.isEmpty,
              let key = copenssl_rsa_public_key(modulus, modulus.count, exponent, exponent.count)
        else { return nil }
        guard copenssl_pkey_bits(key) >= Self.minimumBits else {
            EVP_PKEY_free(key)
            return nil
        }
        self.key = key
    }

    deinit { EVP_PKEY_free(key) }

    /// Whether `signature` is a valid RS256 (PKCS#1 v1.5, SHA-256) signature of `data`.
    public func verifyRS256(signature: [UInt8], data: [UInt8]) -> Bool {
        copenssl_rs256_verify(key, data, data.count, signature, signature.count) == 1
    }
}

/// The RSA signing keys of a JSON Web Key Set (RFC 7517), by key ID.
public struct JSONWebKeySet: Sendable {
    /// The usable keys by `kid`.
    public let keys: [String: RSAPublicKey]

    public init(keys: [String: RSAPublicKey]) { self.keys = keys }

    /// Parses a JWKS document. Keys that are not RSA, not for signatures, declare another
    /// algorithm than RS256, or are malformed are skipped rather than failing the set:
    /// Google may publish new kinds of keys next to the ones we use.
    /// - Throws: `AccountsError.googleTokenRejected(.keySetUnavailable)` when the
    ///   document is not a JWKS at all.
    public init(json: Data) throws(AccountsError) {
        struct Document: Decodable { let keys: [Key] }
        struct Key: Decodable { let kty: String?; let kid: String?; let use: String?; let alg: String?; let n: String?; let e: String? }
        guard let document = try? JSONDecoder().decode(Document.self, from: json) else {
            throw .googleTokenRejected(.keySetUnavailable)
        }
        var keys: [String: RSAPublicKey] = [:]
        for key in document.keys where key.kty == "RSA" && (key.use ?? "sig") == "sig" && (key.alg ?? "RS256") == "RS256" {
            guard let kid = key.kid, let n = key.n.flatMap(Base64URL.decode), let e = key.e.flatMap(Base64URL.decode),
                  let publicKey = RSAPublicKey(modulus: n, exponent: e) else { continue }
            keys[kid] = publicKey
        }
        self.keys = keys
    }
}

/// Where the verifier gets its keys: `HTTPSKeySetSource` (Google's URL) in production,
/// `FileKeySetSource` offline and in tests.
public protocol JSONWebKeySetSource: Sendable {
    /// The current key set.
    /// - Parameter refresh: true when a token named a key the last set lacked: the
    ///   source should reload if it may (keys rotate), within its own rate limit.
    func keySet(refresh: Bool) throws(AccountsError) -> JSONWebKeySet
}

/// A JWKS read from a file, re-read when a refresh is asked for at most once a minute.
public final class FileKeySetSource: JSONWebKeySetSource {
    private let cache: CachedKeySetSource

    public init(path: String, now: @escaping MillisecondClock = systemMillisecondClock) {
        cache = CachedKeySetSource(defaultMaxAgeSeconds: CachedKeySetSource.maximumMaxAgeSeconds, minimumRefreshSeconds: 60, now: now) {
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            return (data, nil)
        }
    }

    public func keySet(refresh: Bool) throws(AccountsError) -> JSONWebKeySet {
        try cache.keySet(refresh: refresh)
    }
}

/// Caches a fetched JWKS for as long as its `Cache-Control: max-age` allows (Google
/// sends about 6 hours), refetching when it expires or, at most once per
/// `minimumRefreshSeconds`, when a token names an unknown key. If a refetch fails,
/// the stale set keeps serving: an HTTPS hiccup must not stop every Google sign-in.
/// A failed fetch counts for the rate limit too, so an unreachable server is not
/// hammered by every sign-in.
///
/// One fetch at a time: callers that need one wait for the fetch under way and use its
/// result (concurrent first use fetches once); callers the cache serves never wait.
public final class CachedKeySetSource: JSONWebKeySetSource {
    /// Returns the JWKS body and its Cache-Control header, or nil when unavailable.
    public typealias Fetch = @Sendable () -> (body: Data, cacheControl: String?)?
    /// Longer max-ages are cut to a week: keys must be re-read now and then, and the
    /// arithmetic must not overflow on a hostile header.
    public static let maximumMaxAgeSeconds: Int64 = 7 * 86_400

    private struct Entry {
        var set: JSONWebKeySet?
        var expiresAt: Int64 = 0
        var fetchedAt: Int64 = .min / 2
    }

    /// What a caller does with the cache as it is.
    private enum Decision {
        case use(JSONWebKeySet)
        case fetch
        case unavailable
    }

    private let fetch: Fetch
    private let now: MillisecondClock
    private let defaultMaxAgeSeconds: Int64
    private let minimumRefreshSeconds: Int64
    private let entry = Mutex(Entry())
    /// Held for the duration of a fetch; never taken by a caller the cache serves.
    private let fetching = Mutex(())

    /// - Parameters:
    ///   - defaultMaxAgeSeconds: how long a set without `max-age` is used.
    ///   - minimumRefreshSeconds: the least time between two fetches (after the first).
    public init(defaultMaxAgeSeconds: Int64 = 3_600, minimumRefreshSeconds: Int64 = 30,
                now: @escaping MillisecondClock = systemMillisecondClock, fetch: @escaping Fetch) {
        self.fetch = fetch
        self.now = now
        self.defaultMaxAgeSeconds = min(defaultMaxAgeSeconds, Self.maximumMaxAgeSeconds)
        self.minimumRefreshSeconds = minimumRefreshSeconds
    }

    public func keySet(refresh: Bool) throws(AccountsError) -> JSONWebKeySet {
        if case .use(let set) = decide(refresh: refresh, at: now()) { return set }
        let outcome: Result<JSONWebKeySet, AccountsError> = fetching.withLock { _ in
            // Decided again under the lock: the fetch this caller waited for may have
            // brought what it needs, and then the rate limit forbids another anyway.
            let time = now()
            switch decide(refresh: refresh, at: time) {
            case .use(let set): return .success(set)
            case .unavailable: return .failure(.googleTokenRejected(.keySetUnavailable))
            case .fetch: return fetchAndStore(at: time)
            }
        }
        return try outcome.get()
    }

    private func decide(refresh: Bool, at time: Int64) -> Decision {
        let current = entry.withLock { $0 }
        let mayFetch = time - current.fetchedAt >= minimumRefreshSeconds * 1_000
        guard let set = current.set else { return mayFetch ? .fetch : .unavailable }
        let isFresh = time < current.expiresAt
        if isFresh && !refresh { return .use(set) }
        return mayFetch ? .fetch : .use(set)
    }

    private func fetchAndStore(at time: Int64) -> Result<JSONWebKeySet, AccountsError> {
        if let (body, cacheControl) = fetch(), let set = try? JSONWebKeySet(json: body) {
            let maxAge = min(cacheControl.flatMap(CacheControl.maxAge) ?? defaultMaxAgeSeconds, Self.maximumMaxAgeSeconds)
            entry.withLock { $0 = Entry(set: set, expiresAt: time + maxAge * 1_000, fetchedAt: time) }
            return .success(set)
        }
        let stale = entry.withLock { entry -> JSONWebKeySet? in
            entry.fetchedAt = time
            return entry.set
        }
        return stale.map { .success($0) } ?? .failure(.googleTokenRejected(.keySetUnavailable))
    }
}

/// The part of an HTTP `Cache-Control` header a JWKS cache needs (RFC 9111 §5.2).
public enum CacheControl {
    /// The `max-age` in seconds; 0 for `no-store`/`no-cache`; nil when absent or invalid.
    public static func maxAge(_ header: String) -> Int64? {
        var maxAge: Int64?
        for directive in header.split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            switch parts[0] {
            case "no-store", "no-cache": return 0
            case "max-age" where parts.count == 2:
                maxAge = Int64(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
            default: continue
            }
        }
        return maxAge.map { max(0, $0) }
    }
}
