import Presence

/// The credential of `resume`: the session's number and a random secret, as
/// `"<session>.<32 hex digits>"`, with `"<node>:"` in front on a cluster node
/// (`NodeQualifier`).
///
/// The session number alone is guessable (it counts up), so it cannot be the credential;
/// carrying it inside the token lets the runtime find the session without a second map,
/// then compare the secret in constant time. The runtime draws the secret (16 random
/// bytes) at sign-in and keeps it with the session; this type only spells and reads it.
public struct ResumeToken: Hashable, Sendable {
    /// The session to resume.
    public var session: SessionID
    /// The secret, 16 bytes.
    public var secret: [UInt8]
    /// The cluster node that issued it; nil on a single node.
    public var node: UInt64?

    /// Creates a token from its parts.
    public init(session: SessionID, secret: [UInt8], node: UInt64? = nil) {
        self.session = session
        self.secret = secret
        self.node = node
    }

    /// Reads the wire form; `nil` if it is not one (the reply is then `unknown_session`,
    /// exactly as for an expired session, so probing learns nothing).
    public init?(text: String) {
        var text = Substring(text)
        var node: UInt64?
        if let colon = text.utf8.firstIndex(of: UInt8(ascii: ":")) {
            // Digits only (`UInt64("+7")` would take a sign), and no more than fit.
            let digits = text[..<colon]
            guard !digits.isEmpty, digits.utf8.count <= 7, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
                  let number = UInt64(digits), number <= NodeQualifier.maxNode
            else { return nil }
            node = number
            text = text[text.index(after: colon)...]
        }
        let parts = text.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 2, let number = UInt64(String(decoding: parts[0], as: UTF8.self)),
              parts[1].count == 32
        else { return nil }
        var secret: [UInt8] = []
        secret.reserveCapacity(16)
        var high: UInt8?
        for byte in parts[1] {
            guard let nibble = Self.nibble(byte) else { return nil }
            if let h = high {
                secret.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        self.init(session: SessionID(number), secret: secret, node: node)
    }

    /// The wire form.
    public var text: String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        for byte in secret {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return NodeQualifier(node: node).session(session) + "." + String(decoding: hex, as: UTF8.self)
    }

    /// Whether `expected` is this token's secret, compared in constant time so the reply
    /// time does not leak how many leading bytes were right.
    /// Creates a token from a secret kept as two words (`SessionAttachment`).
    public init(session: SessionID, secretHigh: UInt64, secretLow: UInt64, node: UInt64? = nil) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for word in [secretHigh, secretLow] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        self.init(session: session, secret: bytes, node: node)
    }

    /// Whether the token's secret is this pair of words, in constant time.
    public func hasSecret(high: UInt64, low: UInt64) -> Bool {
        guard let (h, l) = secretWords else { return false }
        return (h ^ high) | (l ^ low) == 0
    }

    /// The secret as the two words a `SessionAttachment` keeps (big-endian halves); nil
    /// unless it is 16 bytes.
    public var secretWords: (high: UInt64, low: UInt64)? {
        guard secret.count == 16 else { return nil }
        var h: UInt64 = 0, l: UInt64 = 0
        for i in 0..<8 { h = h << 8 | UInt64(secret[i]); l = l << 8 | UInt64(secret[8 + i]) }
        return (h, l)
    }

    public func hasSecret(_ expected: [UInt8]) -> Bool {
        guard expected.count == secret.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<secret.count { difference |= secret[index] ^ expected[index] }
        return difference == 0
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
