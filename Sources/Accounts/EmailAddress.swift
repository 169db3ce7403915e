/// E-mail addresses as account IDs.
///
/// The ID is the address trimmed and lowercased: case never distinguishes two accounts
/// (RFC 5321 lets the local part be case-sensitive, but no real provider uses that, and
/// "Ann@x.org" and "ann@x.org" being two accounts would only help impersonation).
/// Only ASCII addresses are accepted, which keeps IDs safe to place in mail headers and
/// compare byte-wise; internationalised addresses (RFC 6531) are out of scope.
public enum EmailAddress {
    /// RFC 5321 §4.5.3.1: at most 64 octets of local part, 254 in the whole path.
    static let maximumLength = 254
    static let maximumLocalLength = 64

    /// The account ID for `text`, or nil when it is not an acceptable address.
    public static func normalized(_ text: String) -> String? {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty, trimmed.utf8.count <= maximumLength,
              trimmed.unicodeScalars.allSatisfy({ $0.isASCII }) else { return nil }
        let lowered = trimmed.lowercased()
        guard let at = lowered.lastIndex(of: "@") else { return nil }
        let local = lowered[..<at], domain = lowered[lowered.index(after: at)...]
        guard isValidLocalPart(local), isValidDomain(domain) else { return nil }
        return lowered
    }

    /// The dot-atom form of RFC 5322 §3.2.3; quoted local parts are refused.
    private static func isValidLocalPart(_ local: Substring) -> Bool {
        let atext = Set("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~")
        guard !local.isEmpty, local.utf8.count <= maximumLocalLength,
              local.first != ".", local.last != ".", !local.contains("..") else { return false }
        return local.allSatisfy { $0 == "." || atext.contains($0) }
    }

    /// A host name of at least two labels (RFC 1035 letters, digits, hyphens).
    private static func isValidDomain(_ domain: Substring) -> Bool {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" }
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace (by Unicode scalar, so a CRLF pair counts).
    func trimmingWhitespace() -> Substring {
        let scalars = Substring(self).unicodeScalars
        let start = scalars.firstIndex { !$0.properties.isWhitespace } ?? scalars.endIndex
        let end = scalars.lastIndex { !$0.properties.isWhitespace }.map { scalars.index(after: $0) } ?? start
        return Substring(scalars[start..<Swift.max(start, end)])
    }
}
