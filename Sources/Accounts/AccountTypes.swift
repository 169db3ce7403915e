import Storage

/// What a client may see of an account: the sign-in reply and the profile page.
public struct AccountProfile: Sendable, Equatable {
    /// The account ID: the lowercased e-mail address.
    public var id: String
    public var firstName: String
    public var lastName: String
    /// Whether messages received while signed out are announced by e-mail.
    public var wantsOfflineEmail: Bool
    /// Whether a Google account is linked (Sign in with Google works).
    public var isGoogleLinked: Bool
    /// False for an account created by Google sign-in that never set a password.
    public var hasPassword: Bool
    public var createdAt: Int64
    public var updatedAt: Int64

    init(_ record: AccountRecord) {
        id = record.id
        firstName = record.firstName
        lastName = record.lastName
        wantsOfflineEmail = record.wantsOfflineEmail
        isGoogleLinked = record.googleSubject != nil
        hasPassword = record.passwordHash != nil
        createdAt = record.createdAt
        updatedAt = record.updatedAt
    }
}

/// A successful sign-in.
public struct SignInResult: Sendable, Equatable {
    public var profile: AccountProfile
    public var deviceKind: DeviceKind
    /// The new "stay signed in" token: shown to the client once, never stored in clear.
    /// Nil when the user did not ask to stay signed in. A token sign-in always returns
    /// the rotated replacement; the token it used works on only for the grace period
    /// (`AccountsConfiguration.deviceTokenGraceMilliseconds`) or until the replacement
    /// is first used.
    public var deviceToken: String?
    /// The storage row of that token (stable across rotations): what a session keeps to
    /// revoke it at `logOut` or spare it at `changePassword`, instead of the token itself.
    public var deviceTokenID: Int64?

    public init(profile: AccountProfile, deviceKind: DeviceKind, deviceToken: String?, deviceTokenID: Int64? = nil) {
        self.profile = profile
        self.deviceKind = deviceKind
        self.deviceToken = deviceToken
        self.deviceTokenID = deviceTokenID
    }
}

/// A profile edit. Nil fields stay as they are.
public struct ProfileEdit: Sendable, Equatable {
    public var firstName: String?
    public var lastName: String?
    public var wantsOfflineEmail: Bool?
    /// Present only so that a request that tries to change the address is refused
    /// explicitly (`AccountsError.emailCannotChange`) rather than silently ignored.
    public var email: String?

    public init(firstName: String? = nil, lastName: String? = nil, wantsOfflineEmail: Bool? = nil, email: String? = nil) {
        self.firstName = firstName
        self.lastName = lastName
        self.wantsOfflineEmail = wantsOfflineEmail
        self.email = email
    }
}

/// The result of a password change or reset: which credentials died, so the gateway
/// can close the matching live sessions with the "sign in again" close code.
public struct CredentialChange: Sendable, Equatable {
    public var accountID: String
    /// How many device tokens were revoked.
    public var revokedDeviceTokens: Int
    /// True after a reset: every live session of the account must close. False after a
    /// change while signed in: every session except the one that made the change.
    public var closesEverySession: Bool
}

/// What a deleted account leaves behind for the gateway to act on.
public struct DeletedAccount: Sendable, Equatable {
    public var accountID: String
    /// The accounts that had it as a contact (any state): they must see it go offline
    /// and drop it from their lists.
    public var formerContacts: [String]
}

/// Rules for the free-text profile fields.
public enum ProfileValidation {
    /// Names longer than this are refused.
    public static let maximumNameLength = 100

    /// The trimmed name, or `AccountsError.invalidName`. The first name is required;
    /// the last name may be empty (not everyone has one).
    static func name(_ text: String, field: String, isRequired: Bool) throws(AccountsError) -> String {
        let trimmed = String(text.trimmingWhitespace())
        guard trimmed.count <= maximumNameLength, !(isRequired && trimmed.isEmpty),
              !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw .invalidName(field: field) }
        return trimmed
    }
}

/// Settings of the account service.
public struct AccountsConfiguration: Sendable {
    public var passwordPolicy = PasswordPolicy()
    /// How long a reset link works: 24 hours, as the help article promises.
    public var resetTokenLifetimeMilliseconds: Int64 = 24 * 3_600_000
    /// Texts and addresses of outgoing mail; the reset link is `resetLinkBase + token`.
    public var mail = MailTemplates(productName: "Presence", from: "Presence <no-reply@localhost>",
                                    resetLinkBase: "http://localhost:8080/password-reset/")
    /// Whether Google sign-in with an unknown (verified) e-mail creates an account.
    public var createsAccountsForGoogleSignIn = true
    /// How long a device token stays usable after the sign-in that rotated it away, unless
    /// its replacement is used first: a client whose sign-in reply was lost in transit
    /// still holds only the old one.
    public var deviceTokenGraceMilliseconds: Int64 = 60_000

    public init() {}
}

/// A device-token sign-in checked against the rate limit, whose storage half has not run
/// yet (see `AccountService.beginSignIn(deviceToken:sourceAddress:)`).
public struct PendingTokenSignIn: Sendable {
    let oldHash: [UInt8]
    let newToken: String
    let newHash: [UInt8]
    let time: Int64
    let graceUntil: Int64

    /// Checks the rate limit and hashes the token, without touching storage: what
    /// `AccountService.beginSignIn` does, for a caller that holds no service (the
    /// gateway's event loop: this blocks on nothing, it is two SHA-256 and 32 random bytes).
    /// - Parameters:
    ///   - limiter: the shared limiter of failed sign-ins; a failure of `complete(in:)`
    ///     is recorded by the caller.
    ///   - graceMilliseconds: `AccountsConfiguration.deviceTokenGraceMilliseconds`.
    ///   - now: milliseconds since the epoch.
    /// - Throws: `rateLimited`.
    public init(deviceToken: String, sourceAddress: String, limiter: RateLimiter, graceMilliseconds: Int64, now: Int64) throws {
        if let wait = limiter.retryAfter(account: nil, address: sourceAddress) {
            throw AccountsError.rateLimited(retryAfterSeconds: wait)
        }
        oldHash = SecretToken.hash(deviceToken)
        newToken = SecretToken.generate()
        newHash = SecretToken.hash(newToken)
        time = now
        graceUntil = now + graceMilliseconds
    }

    /// Finds the device the token signs in and its account, and swaps the token for the
    /// new one, all in `database`'s current transaction. Run it inside a write transaction
    /// (the rotation is a compare-and-swap on the old hash), and count the sign-in only
    /// once that commits.
    /// - Returns: the sign-in with the new token, or nil when the token is not usable
    ///   (unknown, revoked, or rotated away and out of its grace period).
    public func complete(in database: Database) throws -> SignInResult? {
        let tokens = DeviceTokenStore(database)
        guard let device = try tokens.findUsable(tokenHash: oldHash, at: time),
              let account = try AccountStore(database).find(id: device.accountID),
              try tokens.rotate(from: oldHash, to: newHash, at: time, graceUntil: graceUntil)
        else { return nil }
        return SignInResult(profile: AccountProfile(account), deviceKind: device.deviceKind, deviceToken: newToken,
                            deviceTokenID: device.id)
    }
}
