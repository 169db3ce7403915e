/// Every way an account operation fails. `code` and `httpStatus` are the one place
/// that decides what each failure looks like on the wire; the gateway should use them
/// rather than switch on the cases itself.
public enum AccountsError: Error, Equatable, Sendable {
    /// The text is not an e-mail address this server accepts as an account ID.
    case invalidEmail
    /// Sign-up: an account with this e-mail address already exists.
    case emailTaken
    /// A new password broke the policy; lists every rule it broke, not just the first.
    case passwordRejected([PasswordRule])
    /// A first or last name is empty, too long, or contains control characters.
    case invalidName(field: String)
    /// Unknown account or wrong password. Deliberately one case, so a failure never
    /// tells whether the account exists.
    case invalidCredentials
    /// Too many failed attempts from this account or address; retry after this many seconds.
    case rateLimited(retryAfterSeconds: Int)
    /// The device token is unknown, rotated away or revoked: sign in with the password again.
    case invalidDeviceToken
    /// The reset token is unknown or was already used (or burnt by another reset).
    case invalidResetToken
    /// The reset token is genuine but older than its lifetime: request a new link.
    case resetTokenExpired
    /// The e-mail address is the account's ID and never changes: create a new account
    /// with the new address instead.
    case emailCannotChange
    /// The Google ID token failed verification; the reason is for logs, not for the client.
    case googleTokenRejected(GoogleTokenRejection)
    /// The signed-in account no longer exists (deleted meanwhile), or Google sign-in found
    /// no account and creating one is disabled.
    case accountNotFound
    /// Google sign-in: the account with this address is already linked to a different
    /// Google account (another `sub`). A link is never replaced silently: whoever holds
    /// the address at Google now is not necessarily who linked it.
    case googleLinkConflict
}

/// Why a Google ID token was refused.
public enum GoogleTokenRejection: Error, Equatable, Sendable {
    /// Not three base64url parts of JSON, or too large.
    case malformed
    /// The header's `alg` is not RS256 (for example `none` or `HS256`).
    case unsupportedAlgorithm(String)
    /// The header has no `kid`, or one that is not in the key set.
    case unknownKeyID
    /// The RS256 signature does not verify under the key.
    case badSignature
    /// `iss` is not Google.
    case wrongIssuer
    /// `aud` is not our client ID.
    case wrongAudience
    /// `exp` has passed (beyond the allowed clock skew).
    case expired
    /// `iat` or `nbf` lies in the future (beyond the allowed clock skew).
    case notYetValid
    /// `email_verified` is not true.
    case emailNotVerified
    /// A required claim (`sub`, `email`, `exp`) is missing or has the wrong type.
    case missingClaim(String)
    /// The key set could not be loaded.
    case keySetUnavailable
}

extension AccountsError {
    /// A stable, machine-readable code for the wire protocol.
    public var code: String {
        switch self {
        case .invalidEmail: "invalid_email"
        case .emailTaken: "email_taken"
        case .passwordRejected: "password_rejected"
        case .invalidName: "invalid_name"
        case .invalidCredentials: "invalid_credentials"
        case .rateLimited: "rate_limited"
        case .invalidDeviceToken: "invalid_device_token"
        case .invalidResetToken: "invalid_reset_token"
        case .resetTokenExpired: "reset_token_expired"
        case .emailCannotChange: "email_cannot_change"
        case .googleTokenRejected: "google_token_rejected"
        case .accountNotFound: "account_not_found"
        case .googleLinkConflict: "google_link_conflict"
        }
    }

    /// The HTTP status of the failure on the HTTP endpoints.
    public var httpStatus: Int {
        switch self {
        case .invalidEmail, .passwordRejected, .invalidName, .invalidResetToken: 400
        case .emailCannotChange: 400
        case .invalidCredentials, .invalidDeviceToken, .googleTokenRejected: 401
        case .accountNotFound: 404
        case .emailTaken, .googleLinkConflict: 409
        case .resetTokenExpired: 410
        case .rateLimited: 429
        }
    }

    /// A sentence for the user. Never contains a token, a link or a password.
    public var message: String {
        switch self {
        case .invalidEmail: "That is not a valid e-mail address."
        case .emailTaken: "An account with this e-mail address already exists."
        case .passwordRejected(let rules):
            "The password must have " + rules.map(\.requirement).joined(separator: "; ") + "."
        case .invalidName(let field): "The \(field) must be 1 to \(ProfileValidation.maximumNameLength) characters."
        case .invalidCredentials: "The e-mail address or password is incorrect."
        case .rateLimited(let seconds): "Too many attempts. Try again in \(seconds) seconds."
        case .invalidDeviceToken: "This device is no longer signed in. Sign in with your password."
        case .invalidResetToken: "This password reset link is not valid. Request a new one."
        case .resetTokenExpired: "This password reset link has expired. Request a new one."
        case .emailCannotChange:
            "The e-mail address of an account cannot be changed. Create a new account with the new address."
        case .googleTokenRejected: "Google sign-in failed. Try again."
        case .accountNotFound: "There is no account for this sign-in."
        case .googleLinkConflict:
            "This account is linked to a different Google account. Sign in with that Google account or with your password."
        }
    }
}
