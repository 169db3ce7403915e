import Storage

extension AccountService {
    /// Signs in with e-mail and password.
    /// - Parameters:
    ///   - staySignedIn: issue a device token for later password-less sign-ins.
    ///   - sourceAddress: the client's IP address, for rate limiting.
    /// - Throws: `rateLimited` (before any check), `invalidCredentials` for an unknown
    ///   account and a wrong password alike, after the same scrypt work.
    public func signIn(email: String, password: String, device: DeviceKind, staySignedIn: Bool,
                       sourceAddress: String) throws -> SignInResult {
        let id = EmailAddress.normalized(email)
        let limiterKey = id ?? email.lowercased()
        if let wait = signInLimiter.retryAfter(account: limiterKey, address: sourceAddress) {
            throw AccountsError.rateLimited(retryAfterSeconds: wait)
        }
        let account = try id.flatMap { try accounts.find(id: $0) }
        let storedHash = account?.passwordHash
        let matches = hasher.verify(password, against: storedHash ?? dummyHash) && storedHash != nil
        guard let account, let storedHash, matches else {
            signInLimiter.record(account: limiterKey, address: sourceAddress)
            throw AccountsError.invalidCredentials
        }
        signInLimiter.clear(account: limiterKey)
        if hasher.needsRehash(storedHash) {
            // The only moment the password is known: upgrade the hash to today's cost.
            try accounts.setPasswordHash(id: account.id, hasher.hash(password), at: now())
        }
        return try completeSignIn(account, device: device, staySignedIn: staySignedIn)
    }

    /// Signs in with a device token alone and rotates it: the returned `deviceToken`
    /// replaces the one used, which keeps working only until the grace period ends or the
    /// new one is first used (a reply lost in transit must not log the device out).
    /// - Throws: `rateLimited`, `invalidDeviceToken` (unknown, rotated or revoked).
    public func signIn(deviceToken: String, sourceAddress: String) throws -> SignInResult {
        let pending = try beginSignIn(deviceToken: deviceToken, sourceAddress: sourceAddress)
        guard let result = try database.transaction({ try pending.complete(in: database) }) else {
            signInLimiter.record(account: nil, address: sourceAddress)
            throw AccountsError.invalidDeviceToken
        }
        return result
    }

    /// The first half of a device-token sign-in, for callers that carry out the rest in a
    /// write transaction of their own (the gateway's group commit): the rate limit is
    /// checked and the token hashed here, without touching storage; `complete(in:)` then
    /// finds the device and rotates its token. When that returns nil, the caller records
    /// the failure against `sourceAddress` and answers `invalidDeviceToken`.
    /// - Throws: `rateLimited`.
    public func beginSignIn(deviceToken: String, sourceAddress: String) throws -> PendingTokenSignIn {
        try PendingTokenSignIn(deviceToken: deviceToken, sourceAddress: sourceAddress, limiter: signInLimiter,
                               graceMilliseconds: configuration.deviceTokenGraceMilliseconds, now: now())
    }

    /// Signs in with a Google ID token. The account is found by the linked Google
    /// subject, else by the verified e-mail (and then linked), else created without a
    /// password when `createsAccountsForGoogleSignIn` is on.
    /// - Throws: `rateLimited`, `googleTokenRejected`, `invalidEmail` (an address we
    ///   cannot use as an ID), `accountNotFound` (creation disabled), `googleLinkConflict`
    ///   (the account is linked to another Google subject).
    public func signIn(googleIDToken: String, device: DeviceKind, staySignedIn: Bool,
                       sourceAddress: String) throws -> SignInResult {
        if let wait = signInLimiter.retryAfter(account: nil, address: sourceAddress) {
            throw AccountsError.rateLimited(retryAfterSeconds: wait)
        }
        guard let google else { throw AccountsError.googleTokenRejected(.keySetUnavailable) }
        let identity: GoogleIdentity
        do {
            identity = try google.verify(googleIDToken)
        } catch {
            signInLimiter.record(account: nil, address: sourceAddress)
            throw error
        }
        guard let id = EmailAddress.normalized(identity.email) else { throw AccountsError.invalidEmail }
        let time = now()
        let account = try database.transaction { () throws -> AccountRecord in
            if let linked = try accounts.find(googleSubject: identity.subject) { return linked }
            if var existing = try accounts.find(id: id) {
                // Google vouches (email_verified) that this subject owns the address now,
                // which is enough to link an account that has no Google link yet. It is not
                // enough to replace another subject's link: the address may have changed
                // hands at Google (a recycled Workspace address), and the linked person
                // would be locked out without a word. There is no relinking: the account
                // keeps its first link (and its password, if it has one).
                if let linked = existing.googleSubject, linked != identity.subject {
                    throw AccountsError.googleLinkConflict
                }
                try accounts.linkGoogle(id: id, subject: identity.subject, at: time)
                existing.googleSubject = identity.subject
                existing.updatedAt = time
                return existing
            }
            guard configuration.createsAccountsForGoogleSignIn else { throw AccountsError.accountNotFound }
            let first = (try? ProfileValidation.name(identity.givenName ?? "", field: "first name", isRequired: true))
                ?? String(id.prefix(while: { $0 != "@" }))
            let last = (try? ProfileValidation.name(identity.familyName ?? "", field: "last name", isRequired: false)) ?? ""
            let record = AccountRecord(id: id, firstName: first, lastName: last, passwordHash: nil,
                                       wantsOfflineEmail: false, googleSubject: identity.subject,
                                       createdAt: time, updatedAt: time)
            try accounts.insert(record)
            return record
        }
        return try completeSignIn(account, device: device, staySignedIn: staySignedIn)
    }

    /// Logs a device out: its token is revoked. (A connection that merely closes keeps it.)
    /// - Returns: the account the token belonged to, or nil if it was already invalid.
    @discardableResult
    public func logOut(deviceToken: String) throws -> String? {
        try deviceTokens.revoke(tokenHash: SecretToken.hash(deviceToken), at: now())
    }

    /// Logging out revokes this device's "stay signed in" token, by its storage row (what a
    /// session keeps). - Returns: whether a valid token was revoked.
    @discardableResult
    public func logOut(deviceTokenID: Int64) throws -> Bool {
        try deviceTokens.revoke(id: deviceTokenID, at: now())
    }

    /// Revokes every device token of the account ("sign out everywhere").
    /// - Returns: how many were revoked.
    @discardableResult
    public func revokeAllDeviceTokens(accountID: String) throws -> Int {
        try deviceTokens.revokeAll(accountID: accountID, at: now())
    }

    /// Checks the password of a signed-in user before something irreversible (deleting the
    /// account). Rate-limited like a sign-in.
    /// - Throws: `rateLimited`, `invalidCredentials`.
    public func confirmPassword(accountID: String, password: String, sourceAddress: String) throws {
        if let wait = signInLimiter.retryAfter(account: accountID, address: sourceAddress) {
            throw AccountsError.rateLimited(retryAfterSeconds: wait)
        }
        let storedHash = try accounts.find(id: accountID)?.passwordHash
        guard let storedHash, hasher.verify(password, against: storedHash) else {
            signInLimiter.record(account: accountID, address: sourceAddress)
            throw AccountsError.invalidCredentials
        }
    }

    func completeSignIn(_ account: AccountRecord, device: DeviceKind, staySignedIn: Bool) throws -> SignInResult {
        var token: String?
        var tokenID: Int64?
        if staySignedIn {
            let fresh = SecretToken.generate()
            tokenID = try deviceTokens.insert(accountID: account.id, tokenHash: SecretToken.hash(fresh), deviceKind: device, at: now())
            token = fresh
        }
        return SignInResult(profile: AccountProfile(account), deviceKind: device, deviceToken: token, deviceTokenID: tokenID)
    }
}
