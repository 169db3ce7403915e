import Foundation

/// Who a verified Google ID token says the user is.
public struct GoogleIdentity: Sendable, Equatable {
    /// The stable Google account ID (`sub`); e-mail addresses of Google accounts can change.
    public var subject: String
    /// The verified e-mail address, as Google sent it.
    public var email: String
    public var givenName: String?
    public var familyName: String?
}

/// Verifies Google ID tokens (OpenID Connect, signed JWTs) with OpenSSL alone.
///
/// Checks, in order: shape, header `alg` exactly "RS256" (so `none`, HS256 and any
/// algorithm confusion fail before a key is touched), a `kid` found in the key set,
/// the RSA signature, then the claims: `iss`, `aud`, `exp`/`iat`/`nbf` within the clock
/// skew, and `email_verified`. See
/// https://developers.google.com/identity/gsi/web/guides/verify-google-id-token.
public struct GoogleIDTokenVerifier: Sendable {
    /// Google issues tokens with either spelling.
    public static let issuers: Set<String> = ["accounts.google.com", "https://accounts.google.com"]
    /// Larger inputs are refused before decoding; Google's tokens are about 1 KB.
    static let maximumTokenLength = 16 * 1024

    /// Our OAuth client ID: the only accepted `aud`.
    public let clientID: String
    /// How far apart our clock and Google's may be.
    public let allowedClockSkewSeconds: Int64
    private let keys: any JSONWebKeySetSource
    private let now: MillisecondClock

    public init(clientID: String, keys: any JSONWebKeySetSource, allowedClockSkewSeconds: Int64 = 60,
                now: @escaping MillisecondClock = systemMillisecondClock) {
        self.clientID = clientID
        self.keys = keys
        self.allowedClockSkewSeconds = allowedClockSkewSeconds
        self.now = now
    }

    /// The identity in `token`.
    /// - Throws: `AccountsError.googleTokenRejected` with the first check that failed.
    public func verify(_ token: String) throws(AccountsError) -> GoogleIdentity {
        do {
            return try verifyOrReject(token)
        } catch let rejection {
            throw .googleTokenRejected(rejection)
        }
    }

    private struct Header: Decodable {
        let alg: String
        let kid: String?
    }

    private struct Claims: Decodable {
        let iss: String?
        let aud: Audience?
        let sub: String?
        let exp: Double?
        let iat: Double?
        let nbf: Double?
        let email: String?
        let email_verified: Flag?
        let given_name: String?
        let family_name: String?
    }

    /// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
    private struct Audience: Decodable {
        let values: [String]
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) { values = [one] } else { values = try container.decode([String].self) }
        }
    }

    /// Google has sent `email_verified` both as a boolean and as the string "true".
    private struct Flag: Decodable {
        let isTrue: Bool
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let bool = try? container.decode(Bool.self) { isTrue = bool } else { isTrue = try container.decode(String.self) == "true" }
        }
    }

    private func verifyOrReject(_ token: String) throws(GoogleTokenRejection) -> GoogleIdentity {
        guard token.utf8.count <= Self.maximumTokenLength else { throw .malformed }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3,
              let headerBytes = Base64URL.decode(parts[0]), let claimBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = try? JSONDecoder().decode(Header.self, from: Data(headerBytes)),
              let claims = try? JSONDecoder().decode(Claims.self, from: Data(claimBytes))
        else { throw .malformed }

        // RFC 8725 §3.1: the algorithm is fixed by us, never taken from the token.
        guard header.alg == "RS256" else { throw .unsupportedAlgorithm(header.alg) }
        guard let kid = header.kid else { throw .unknownKeyID }
        let key = try publicKey(kid)
        // The signature covers the two encoded parts exactly as sent.
        let signedPart = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard key.verifyRS256(signature: signature, data: signedPart) else { throw .badSignature }

        guard let issuer = claims.iss, Self.issuers.contains(issuer) else { throw .wrongIssuer }
        guard let audience = claims.aud, audience.values.contains(clientID) else { throw .wrongAudience }
        let seconds = Double(now()) / 1_000, skew = Double(allowedClockSkewSeconds)
        guard let expiry = claims.exp else { throw .missingClaim("exp") }
        guard seconds < expiry + skew else { throw .expired }
        for start in [claims.iat, claims.nbf].compactMap({ $0 }) where start > seconds + skew {
            throw .notYetValid
        }
        guard let subject = claims.sub, !subject.isEmpty else { throw .missingClaim("sub") }
        guard let email = claims.email else { throw .missingClaim("email") }
        guard claims.email_verified?.isTrue == true else { throw .emailNotVerified }
        return GoogleIdentity(subject: subject, email: email, givenName: claims.given_name, familyName: claims.family_name)
    }

    /// The key named `kid`, asking the source to refresh once if the cached set lacks it
    /// (Google rotates its keys every few weeks).
    private func publicKey(_ kid: String) throws(GoogleTokenRejection) -> RSAPublicKey {
        do {
            if let key = try keys.keySet(refresh: false).keys[kid] { return key }
            if let key = try keys.keySet(refresh: true).keys[kid] { return key }
        } catch {
            throw .keySetUnavailable
        }
        throw .unknownKeyID
    }
}
