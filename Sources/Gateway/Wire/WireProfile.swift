import Accounts

/// The profile as the sign-in reply and `updateProfile` show it.
public struct WireProfile: Hashable, Sendable {
    /// The account ID: the lowercased e-mail address.
    public var id: String
    public var firstName: String
    public var lastName: String
    /// The "offline e-mail notification" flag.
    public var offlineEmail: Bool
    /// Whether Sign in with Google works for this account.
    public var isGoogleLinked: Bool
    /// False for an account created by Google sign-in that never set a password: it
    /// cannot `changePassword` or `deleteAccount` until it sets one by password reset.
    public var hasPassword: Bool

    /// Creates a profile from its parts.
    public init(id: String, firstName: String, lastName: String, offlineEmail: Bool,
                isGoogleLinked: Bool = false, hasPassword: Bool = true) {
        self.id = id
        self.firstName = firstName
        self.lastName = lastName
        self.offlineEmail = offlineEmail
        self.isGoogleLinked = isGoogleLinked
        self.hasPassword = hasPassword
    }

    /// The account service's profile.
    public init(_ profile: AccountProfile) {
        self.init(id: profile.id, firstName: profile.firstName, lastName: profile.lastName,
                  offlineEmail: profile.wantsOfflineEmail, isGoogleLinked: profile.isGoogleLinked,
                  hasPassword: profile.hasPassword)
    }

    /// `{"id":…,"firstName":…,"lastName":…,"offlineEmail":…,"googleLinked":…,"hasPassword":…}`
    func write(into json: inout JSONWriter) {
        json.beginObject()
        json.key("id"); json.string(id)
        json.key("firstName"); json.string(firstName)
        json.key("lastName"); json.string(lastName)
        json.key("offlineEmail"); json.bool(offlineEmail)
        json.key("googleLinked"); json.bool(isGoogleLinked)
        json.key("hasPassword"); json.bool(hasPassword)
        json.endObject()
    }
}
