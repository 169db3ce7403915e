import COpenSSL

/// Random bearer secrets (device and reset tokens) and their stored form.
///
/// A token is shown to its owner once and stored only as its SHA-256, so a copy of the
/// database signs no one in. A fast hash is right here, unlike for passwords: the token
/// has 256 bits of entropy, so there is nothing to brute-force.
enum SecretToken {
    /// 32 bytes = 256 bits (43 base64url characters).
    static let byteCount = 32

    /// A fresh token, base64url without padding (safe in URLs and JSON as is).
    static func generate(byteCount: Int = SecretToken.byteCount) -> String {
        Base64URL.encode(randomBytes(byteCount))
    }

    /// The stored form of a token.
    static func hash(_ token: String) -> [UInt8] {
        sha256(Array(token.utf8))
    }

    /// Cryptographically secure random bytes from OpenSSL's DRBG.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        // RAND_bytes fails only when the DRBG cannot be seeded; issuing a guessable
        // secret instead would be worse than stopping.
        guard RAND_bytes(&bytes, Int32(count)) == 1 else { fatalError("RAND_bytes failed: no entropy") }
        return bytes
    }

    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        _ = SHA256(bytes, bytes.count, &digest)
        return digest
    }

    /// Constant-time equality (CRYPTO_memcmp), for comparing secrets.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return CRYPTO_memcmp(a, b, a.count) == 0
    }
}

/// Base64url (RFC 4648 §5) without padding, as JWTs and our tokens use it.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xff, count: 256)
        for (index, char) in alphabet.enumerated() { table[Int(char)] = UInt8(index) }
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let b0 = bytes[index], b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
            let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            let remaining = bytes.count - index
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            if remaining > 1 { out.append(alphabet[Int((b1 & 0x0f) << 2 | b2 >> 6)]) }
            if remaining > 2 { out.append(alphabet[Int(b2 & 0x3f)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes, or nil for any character outside the alphabet, padding, or an
    /// impossible length. Strict on purpose: a JWT part has exactly one encoding.
    static func decode<S: StringProtocol>(_ text: S) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count * 3 / 4)
        var buffer: UInt32 = 0, bits = 0
        for char in chars {
            let value = values[Int(char)]
            guard value != 0xff else { return nil }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // Leftover bits must be zero, or two strings would decode to the same bytes.
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
