/// One rule of the password policy. A rejection lists every rule that failed.
public enum PasswordRule: Equatable, Sendable {
    /// Fewer characters than the minimum.
    case tooShort(minimum: Int)
    /// More characters than the maximum (which bounds hashing work per request).
    case tooLong(maximum: Int)
    /// No English uppercase letter A-Z.
    case missingUppercase
    /// No English lowercase letter a-z.
    case missingLowercase
    /// No base-10 digit 0-9.
    case missingDigit
    /// No non-alphanumeric character (e.g. ! @ # $ &).
    case missingSymbol

    /// What the rule asks for, to complete "The password must have …".
    public var requirement: String {
        switch self {
        case .tooShort(let minimum): "at least \(minimum) characters"
        case .tooLong(let maximum): "at most \(maximum) characters"
        case .missingUppercase: "an uppercase letter (A-Z)"
        case .missingLowercase: "a lowercase letter (a-z)"
        case .missingDigit: "a digit (0-9)"
        case .missingSymbol: "a character that is not a letter or digit (e.g. ! @ # $ &)"
        }
    }
}

/// The password rule of the help article: at least one of A-Z, a-z, 0-9 and a
/// non-alphanumeric character, plus a length range.
///
/// The classes are the *English* ones, as the article says, so any other character
/// (a space, "é", an emoji) counts as non-alphanumeric. Length is counted in
/// user-perceived characters.
public struct PasswordPolicy: Sendable {
    /// 10: with four character classes this is ~60+ bits for a random password, and
    /// long enough to push users towards passphrases.
    public var minimumLength: Int
    /// 128: generous for passphrases and password managers, and a bound on the bytes
    /// fed to the KDF per request.
    public var maximumLength: Int

    public init(minimumLength: Int = 10, maximumLength: Int = 128) {
        self.minimumLength = minimumLength
        self.maximumLength = maximumLength
    }

    /// Every rule `password` breaks, in a fixed order; empty when it is acceptable.
    public func violations(of password: String) -> [PasswordRule] {
        var rules: [PasswordRule] = []
        let length = password.count
        if length < minimumLength { rules.append(.tooShort(minimum: minimumLength)) }
        // The byte bound catches a few "characters" made of thousands of combining marks.
        if length > maximumLength || password.utf8.count > 4 * maximumLength {
            rules.append(.tooLong(maximum: maximumLength))
        }
        let scalars = password.unicodeScalars
        if !scalars.contains(where: { ("A"..."Z").contains($0) }) { rules.append(.missingUppercase) }
        if !scalars.contains(where: { ("a"..."z").contains($0) }) { rules.append(.missingLowercase) }
        if !scalars.contains(where: { ("0"..."9").contains($0) }) { rules.append(.missingDigit) }
        if !scalars.contains(where: { !Self.isEnglishAlphanumeric($0) }) { rules.append(.missingSymbol) }
        return rules
    }

    /// Throws `AccountsError.passwordRejected` naming every broken rule.
    public func validate(_ password: String) throws(AccountsError) {
        let rules = violations(of: password)
        if !rules.isEmpty { throw .passwordRejected(rules) }
    }

    private static func isEnglishAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        ("A"..."Z").contains(scalar) || ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}
