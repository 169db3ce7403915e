import COpenSSL
import Foundation

/// The cost parameters of scrypt (RFC 7914).
public struct ScryptParameters: Sendable, Equatable {
    /// log2 of N, the CPU/memory cost. Memory per hash is 128 * r * N bytes.
    public var logN: Int
    /// The block size.
    public var r: Int
    /// The parallelisation factor.
    public var p: Int

    public init(logN: Int, r: Int, p: Int) {
        self.logN = logN
        self.r = r
        self.p = p
    }

    /// N = 2^15, r = 8, p = 1: 32 MiB and ~100 ms per hash, ~10 hashes/s on one core of
    /// the 2-core CI machine (measured: 2^14 = 42 ms, 2^15 = 101 ms, 2^16 = 205 ms; see
    /// `testMeasureScryptCostForTheRecord`). Password sign-ins are rare next to token
    /// sign-ins (SHA-256, thousands per second), so we buy memory-hardness per guess
    /// rather than login throughput. Below OWASP's scrypt floor (2^17, or 2^15 with
    /// p = 3) by a factor of 3 in time: raise `p` here if the hardware allows; existing
    /// hashes upgrade on their next sign-in through `needsRehash`.
    public static let recommended = ScryptParameters(logN: 15, r: 8, p: 1)

    /// The most a stored hash may ask for when it is verified. An encoded hash is data;
    /// a forged `ln=30` in it must not make one verification take 32 GiB.
    static let verificationLimit = ScryptParameters(logN: 20, r: 32, p: 16)

    var memoryBytes: UInt64 { 128 * UInt64(r) * (UInt64(1) << UInt64(logN)) }
}

/// scrypt password hashing through OpenSSL, with the parameters stored in the hash.
///
/// Encoded form (the PHC string format): `$scrypt$ln=15,r=8,p=1$<salt>$<hash>` with
/// salt (16 random bytes) and hash (32 bytes) in unpadded base64url. Because the
/// parameters travel with each hash, they can be raised later: `needsRehash` tells
/// the sign-in path to re-hash with the current ones after a successful verify.
///
/// Passwords are NFC-normalised first, so the same password typed on systems that
/// compose accents differently still matches.
public struct PasswordHasher: Sendable {
    /// The parameters new hashes get.
    public let parameters: ScryptParameters
    static let saltLength = 16
    static let hashLength = 32

    public init(parameters: ScryptParameters = .recommended) {
        self.parameters = parameters
    }

    /// A new encoded hash of `password` with a fresh random salt.
    public func hash(_ password: String) -> String {
        let salt = SecretToken.randomBytes(Self.saltLength)
        guard let derived = Self.derive(password, salt: salt, parameters: parameters) else {
            // Only a bad parameter choice in this binary gets here.
            fatalError("scrypt rejected the configured parameters \(parameters)")
        }
        let p = parameters
        return "$scrypt$ln=\(p.logN),r=\(p.r),p=\(p.p)$\(Base64URL.encode(salt))$\(Base64URL.encode(derived))"
    }

    /// Whether `password` matches `encoded`. False for malformed hashes and for
    /// parameters beyond `ScryptParameters.verificationLimit`. Constant-time compare.
    public func verify(_ password: String, against encoded: String) -> Bool {
        guard let stored = Self.decode(encoded),
              let derived = Self.derive(password, salt: stored.salt, parameters: stored.parameters,
                                        length: stored.hash.count)
        else { return false }
        return SecretToken.constantTimeEqual(derived, stored.hash)
    }

    /// Whether `encoded` was made with other parameters than `parameters` (or cannot be
    /// read), so it should be replaced after the next successful verification.
    public func needsRehash(_ encoded: String) -> Bool {
        Self.decode(encoded)?.parameters != parameters
    }

    // MARK: - Encoding and derivation

    static func decode(_ encoded: String) -> (parameters: ScryptParameters, salt: [UInt8], hash: [UInt8])? {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].isEmpty, parts[1] == "scrypt" else { return nil }
        var values: [Substring: Int] = [:]
        for field in parts[2].split(separator: ",") {
            let pair = field.split(separator: "=")
            guard pair.count == 2, let value = Int(pair[1]) else { return nil }
            values[pair[0]] = value
        }
        guard values.count == 3, let logN = values["ln"], let r = values["r"], let p = values["p"],
              let salt = Base64URL.decode(parts[3]), let hash = Base64URL.decode(parts[4]),
              salt.count >= 8, hash.count >= 16 else { return nil }
        let limit = ScryptParameters.verificationLimit
        guard (1...limit.logN).contains(logN), (1...limit.r).contains(r), (1...limit.p).contains(p) else { return nil }
        return (ScryptParameters(logN: logN, r: r, p: p), salt, hash)
    }

    static func derive(_ password: String, salt: [UInt8], parameters: ScryptParameters,
                       length: Int = hashLength) -> [UInt8]? {
        let bytes = Array(password.precomposedStringWithCanonicalMapping.utf8)
        var out = [UInt8](repeating: 0, count: length)
        // OpenSSL counts its own overhead against maxmem, so leave headroom above 128*r*N.
        let maxmem = parameters.memoryBytes * 2 + (1 << 20)
        let ok = copenssl_scrypt(
            bytes, bytes.count, salt, salt.count,
            UInt64(1) << UInt64(parameters.logN), UInt32(parameters.r), UInt32(parameters.p), maxmem,
            &out, length)
        return ok == 1 ? out : nil
    }
}
