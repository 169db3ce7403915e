import Storage

extension AccountService {
    /// Changes the password of a signed-in account. Every other device token is revoked
    /// and every outstanding reset link burnt; the gateway closes the account's other
    /// sessions.
    /// - Parameters:
    ///   - currentDeviceToken: the token of the device making the change, which stays valid.
    ///   - sourceAddress: for rate limiting wrong current passwords.
    /// - Throws: `rateLimited`, `invalidCredentials` (wrong current password, or the
    ///   account has none: use a reset), `passwordRejected`, `accountNotFound`.
    @discardableResult
    public func changePassword(accountID: String, currentPassword: String, newPassword: String,
                               currentDeviceToken: String? = nil, currentDeviceTokenID: Int64? = nil,
                               sourceAddress: String) throws -> CredentialChange {
        if let wait = signInLimiter.retryAfter(account: accountID, address: sourceAddress) {
            throw AccountsError.rateLimited(retryAfterSeconds: wait)
        }
        guard let account = try accounts.find(id: accountID) else { throw AccountsError.accountNotFound }
        guard let storedHash = account.passwordHash, hasher.verify(currentPassword, against: storedHash) else {
            signInLimiter.record(account: accountID, address: sourceAddress)
            throw AccountsError.invalidCredentials
        }
        try configuration.passwordPolicy.validate(newPassword)
        let newHash = hasher.hash(newPassword)
        let time = now()
        return try database.transaction {
            try accounts.setPasswordHash(id: accountID, newHash, at: time)
            let kept = try currentDeviceTokenID ?? currentDeviceToken
                .flatMap { try deviceTokens.findUsable(tokenHash: SecretToken.hash($0), at: time) }
                .flatMap { $0.accountID == accountID ? $0.id : nil }
            let revoked = try deviceTokens.revokeAll(accountID: accountID, keeping: kept, at: time)
            try resetTokens.burnAll(accountID: accountID, at: time)
            return CredentialChange(accountID: accountID, revokedDeviceTokens: revoked, closesEverySession: false)
        }
    }

    /// "Forgot password": if an account has this address, stores a reset token (hashed)
    /// and queues the reset mail in the same transaction. Returns the same way whether
    /// or not the account exists; only the mail differs, and only its owner sees that.
    ///
    /// Two limits. Per source address (`resetLimiter.perAddress`): past it the caller gets
    /// `rateLimited`, decided before the address is even looked at, so it reveals nothing.
    /// Per typed address (`resetLimiter.perAccount`, existing or not): past it the request
    /// is dropped silently (no token, no mail) and still returns normally, so the answer
    /// never depends on the account's existence or its reset history.
    /// - Throws: `rateLimited` (per source address) only.
    public func requestPasswordReset(email: String, sourceAddress: String) throws {
        let id = EmailAddress.normalized(email)
        let limiterKey = id ?? email.lowercased()
        if let wait = resetLimiter.retryAfter(account: nil, address: sourceAddress) {
            throw AccountsError.rateLimited(retryAfterSeconds: wait)
        }
        // Checked before recording: a dropped request must not push the address's own
        // limit further out (the owner's next request gets through after one refill).
        let isTargetLimited = resetLimiter.retryAfter(account: limiterKey) != nil
        resetLimiter.record(account: isTargetLimited ? nil : limiterKey, address: sourceAddress)
        if isTargetLimited { return }
        guard let id else { return }
        let token = SecretToken.generate()
        let time = now()
        let lifetime = configuration.resetTokenLifetimeMilliseconds
        try database.transaction {
            guard try accounts.find(id: id) != nil else { return }
            try resetTokens.insert(tokenHash: SecretToken.hash(token), accountID: id, createdAt: time,
                                   expiresAt: time + lifetime)
            let hours = Int((lifetime + 3_599_999) / 3_600_000)
            let mail = configuration.mail.passwordReset(accountID: id, token: token, lifetimeHours: hours, now: time)
            try outbox.enqueue(recipient: id, subject: mail.subject, message: mail.rendered(), at: time)
        }
    }

    /// Sets a new password through a reset link. Burns this token and every other
    /// outstanding one of the account, and revokes every device token; the gateway must
    /// close every live session of the account (`closesEverySession`).
    /// A rejected password leaves the token usable, so the user can try again.
    /// - Throws: `invalidResetToken` (unknown or used), `resetTokenExpired`, `passwordRejected`.
    @discardableResult
    public func resetPassword(token: String, newPassword: String) throws -> CredentialChange {
        let tokenHash = SecretToken.hash(token)
        try checkResetToken(tokenHash)
        try configuration.passwordPolicy.validate(newPassword)
        let newHash = hasher.hash(newPassword)
        let time = now()
        return try database.transaction {
            // Checked again inside the write lock: two resets racing with one token.
            let record = try checkResetToken(tokenHash)
            try accounts.setPasswordHash(id: record.accountID, newHash, at: time)
            try resetTokens.burnAll(accountID: record.accountID, at: time)
            let revoked = try deviceTokens.revokeAll(accountID: record.accountID, at: time)
            return CredentialChange(accountID: record.accountID, revokedDeviceTokens: revoked, closesEverySession: true)
        }
    }

    @discardableResult
    private func checkResetToken(_ tokenHash: [UInt8]) throws -> ResetTokenRecord {
        guard let record = try resetTokens.find(tokenHash: tokenHash), record.usedAt == nil else {
            throw AccountsError.invalidResetToken
        }
        guard now() < record.expiresAt else { throw AccountsError.resetTokenExpired }
        return record
    }
}
