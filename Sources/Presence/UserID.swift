/// A user's public identity: their e-mail address, normalized.
///
/// The e-mail is the ID users type to add each other, and it can never change (a new
/// address means a new account), so it is a stable key. Normalization trims surrounding
/// whitespace and lowercases, so `" Ann@Example.COM "` and `"ann@example.com"` are the same
/// user. Inside the core a `UserID` is interned once to a dense integer; hot paths never
/// hash strings.
public struct UserID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The normalized address: trimmed, lowercased, exactly one `@` with text on both sides.
    public let email: String

    /// Normalizes `email`, or returns `nil` when it is not an address at all (empty,
    /// no `@` or more than one, a blank side, inner whitespace, longer than 254 bytes).
    public init?(email: String) {
        if Self.isNormalizedASCII(email) {
            self.email = email
            return
        }
        var trimmed = Substring(email)
        while let first = trimmed.first, first.isWhitespace { trimmed.removeFirst() }
        while let last = trimmed.last, last.isWhitespace { trimmed.removeLast() }
        let lowered = trimmed.lowercased()
        // RFC 5321 §4.5.3.1.3: a path is at most 256 octets including the angle brackets.
        guard !lowered.isEmpty, lowered.utf8.count <= 254,
            !lowered.contains(where: \.isWhitespace),
            let at = lowered.firstIndex(of: "@"), at != lowered.startIndex
        else { return nil }
        let domain = lowered[lowered.index(after: at)...]
        guard !domain.isEmpty, !domain.contains("@") else { return nil }
        self.email = lowered
    }

    /// Whether `email` is already a normalized address made of printable ASCII: no
    /// whitespace or control bytes, no capitals, one `@` with bytes on both sides, at most
    /// 254 bytes. The path below then returns it unchanged, so this is only a shortcut: one
    /// pass over bytes instead of Unicode-aware trimming, lowercasing and scanning, which
    /// was a third of a device-token sign-in's worker time (every contact's ID is read from
    /// storage, already normalized).
    private static func isNormalizedASCII(_ email: String) -> Bool {
        func check(_ bytes: some Collection<UInt8>) -> Bool {
            var count = 0, atOffset = -1
            for byte in bytes {
                // Control bytes, space, DEL and non-ASCII, capitals: the full path decides.
                guard byte > 0x20, byte < 0x7F, !(0x41...0x5A).contains(byte) else { return false }
                if byte == UInt8(ascii: "@") {
                    guard atOffset < 0 else { return false }
                    atOffset = count
                }
                count += 1
            }
            return count <= 254 && atOffset > 0 && atOffset < count - 1
        }
        return email.utf8.withContiguousStorageIfAvailable(check) ?? check(email.utf8)
    }

    private init(normalized: String) {
        email = normalized
    }

    /// The same ID in a string allocated by the calling thread. The core keeps one string
    /// per user for as long as the user is known; one allocated on the thread that read it
    /// from storage sat in that thread's malloc arena among megabytes of freed temporaries
    /// (the storage writer's page cache, the rows of a storm's sign-ins), one small live
    /// block every few pages, so those pages could never be returned: ~1.5 KB of RSS per
    /// signed-in session at 10,000.
    var ownCopy: UserID {
        UserID(normalized: String(unsafeUninitializedCapacity: email.utf8.count) { buffer in
            buffer.initialize(fromContentsOf: email.utf8)
        })
    }

    public static func < (lhs: UserID, rhs: UserID) -> Bool { lhs.email < rhs.email }

    public var description: String { email }
}
