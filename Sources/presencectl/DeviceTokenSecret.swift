import COpenSSL

/// Device tokens made the way `Accounts.SecretToken` makes them (internal to Accounts):
/// 32 random bytes from OpenSSL's DRBG in unpadded base64url, stored only as the SHA-256
/// of the token's UTF-8. `SeedLoadCommand` proves the two still agree after every seed by
/// signing one user in through `AccountService.signIn(deviceToken:)`.
enum DeviceTokenSecret {
    static let byteCount = 32
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// A fresh token.
    static func generate() -> String {
        var bytes = [UInt8](repeating: 0, count: byteCount)
        // A guessable token would be worse than stopping.
        guard RAND_bytes(&bytes, Int32(byteCount)) == 1 else { fatalError("RAND_bytes failed: no entropy") }
        return base64URL(bytes)
    }

    /// What `device_tokens.token_hash` holds for `token`.
    static func hash(_ token: String) -> [UInt8] {
        let bytes = Array(token.utf8)
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        _ = SHA256(bytes, bytes.count, &digest)
        return digest
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let b0 = bytes[index]
            let b1 = index + 1 < bytes.count ? bytes[index + 1] : 0
            let b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | b1 >> 4)])
            if index + 1 < bytes.count { out.append(alphabet[Int((b1 & 0x0f) << 2 | b2 >> 6)]) }
            if index + 2 < bytes.count { out.append(alphabet[Int(b2 & 0x3f)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
