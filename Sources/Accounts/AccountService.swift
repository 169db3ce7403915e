import Storage

/// The account lifecycle over Storage: sign-up, sign-in in its three forms, profile
/// edits, password change and reset, deletion, and the mail those cause.
///
/// Synchronous and blocking (scrypt takes tens of milliseconds, SQLite fsyncs): call
/// it from worker threads, never from an event loop. Each worker thread owns its own
/// `AccountService` (it holds a `Database` connection, which is single-threaded);
/// share one `RateLimiter` pair and one `GoogleIDTokenVerifier` between them, so the
/// limits hold across threads.
///
/// Methods throw `AccountsError` for every outcome a user can cause, and `StorageError`
/// only when the database itself fails.
public final class AccountService {
    let database: Database
    public let configuration: AccountsConfiguration
    let hasher: PasswordHasher
    let signInLimiter: RateLimiter
    let resetLimiter: RateLimiter
    let signUpLimiter: RateLimiter?
    let google: GoogleIDTokenVerifier?
    let now: MillisecondClock
    /// Verified against when the account does not exist or has no password, so that
    /// such a failure costs the same scrypt time as a wrong password.
    let dummyHash: String

    /// - Parameters:
    ///   - database: this thread's connection.
    ///   - signInLimiter: failed sign-ins per account and address (share between threads).
    ///   - resetLimiter: reset requests per e-mail and address (share between threads).
    ///   - google: nil disables Sign in with Google.
    ///   - signUpLimiter: sign-ups per source address (share between threads); nil leaves
    ///     sign-up unlimited (offline administration).
    ///   - now: milliseconds since the epoch.
    public init(database: Database, configuration: AccountsConfiguration = AccountsConfiguration(),
                hasher: PasswordHasher = PasswordHasher(), signInLimiter: RateLimiter, resetLimiter: RateLimiter,
                google: GoogleIDTokenVerifier? = nil, signUpLimiter: RateLimiter? = nil,
                now: @escaping MillisecondClock = systemMillisecondClock) {
        self.database = database
        self.configuration = configuration
        self.hasher = hasher
        self.signInLimiter = signInLimiter
        self.resetLimiter = resetLimiter
        self.signUpLimiter = signUpLimiter
        self.google = google
        self.now = now
        dummyHash = hasher.hash(SecretToken.generate())
    }

    var accounts: AccountStore { AccountStore(database) }
    var deviceTokens: DeviceTokenStore { DeviceTokenStore(database) }
    var resetTokens: ResetTokenStore { ResetTokenStore(database) }
    var outbox: OutboxStore { OutboxStore(database) }

    // MARK: - Sign-up and profile

    /// Creates an account.
    /// - Parameter sourceAddress: the client's IP address. Every sign-up from it counts
    ///   against `signUpLimiter`, whatever its outcome: each may cost a scrypt hash on the
    ///   threads that also serve sign-in. Nil (offline tools) is not limited.
    /// - Throws: `rateLimited` (before any check), `invalidEmail`, `invalidName`,
    ///   `passwordRejected` (every broken rule), `emailTaken`.
    public func signUp(email: String, firstName: String, lastName: String, password: String,
                       wantsOfflineEmail: Bool, sourceAddress: String? = nil) throws -> AccountProfile {
        if let signUpLimiter, let sourceAddress {
            if let wait = signUpLimiter.retryAfter(account: nil, address: sourceAddress) {
                throw AccountsError.rateLimited(retryAfterSeconds: wait)
            }
            signUpLimiter.record(account: nil, address: sourceAddress)
        }
        guard let id = EmailAddress.normalized(email) else { throw AccountsError.invalidEmail }
        let first = try ProfileValidation.name(firstName, field: "first name", isRequired: true)
        let last = try ProfileValidation.name(lastName, field: "last name", isRequired: false)
        try configuration.passwordPolicy.validate(password)
        // Checked before hashing so a taken address costs no scrypt; the insert below
        // still catches a sign-up racing this one.
        guard try accounts.find(id: id) == nil else { throw AccountsError.emailTaken }
        let time = now()
        let record = AccountRecord(id: id, firstName: first, lastName: last, passwordHash: hasher.hash(password),
                                   wantsOfflineEmail: wantsOfflineEmail, googleSubject: nil, createdAt: time, updatedAt: time)
        do {
            try accounts.insert(record)
        } catch let error as StorageError where error.isConstraintViolation {
            throw AccountsError.emailTaken
        }
        return AccountProfile(record)
    }

    /// The profile of a signed-in account. - Throws: `accountNotFound`.
    public func profile(accountID: String) throws -> AccountProfile {
        guard let record = try accounts.find(id: accountID) else { throw AccountsError.accountNotFound }
        return AccountProfile(record)
    }

    /// Saves profile edits at once. The gateway then closes the account's live sessions
    /// with the "sign in again" code; clients holding a device token sign straight back
    /// in and get the new profile (the help article's "log out and back in", automated).
    /// - Throws: `emailCannotChange` if `edit.email` names another address,
    ///   `invalidName`, `accountNotFound`.
    public func updateProfile(accountID: String, _ edit: ProfileEdit) throws -> AccountProfile {
        if let email = edit.email, (EmailAddress.normalized(email) ?? email) != accountID {
            throw AccountsError.emailCannotChange
        }
        return try database.transaction {
            guard var record = try accounts.find(id: accountID) else { throw AccountsError.accountNotFound }
            if let first = edit.firstName {
                record.firstName = try ProfileValidation.name(first, field: "first name", isRequired: true)
            }
            if let last = edit.lastName {
                record.lastName = try ProfileValidation.name(last, field: "last name", isRequired: false)
            }
            if let flag = edit.wantsOfflineEmail { record.wantsOfflineEmail = flag }
            record.updatedAt = now()
            try accounts.updateProfile(id: accountID, firstName: record.firstName, lastName: record.lastName,
                                       wantsOfflineEmail: record.wantsOfflineEmail, at: record.updatedAt)
            return AccountProfile(record)
        }
    }

    /// Changing the e-mail address is not possible: it is the account's ID.
    /// - Throws: always `emailCannotChange`, whose message says to create a new account.
    public func changeEmail(accountID: String, to newEmail: String) throws -> Never {
        throw AccountsError.emailCannotChange
    }

    /// Deletes the account with its contact links, messages, device and reset tokens,
    /// and unsent mail. The address can sign up again afterwards. The gateway closes
    /// the account's live sessions and tells `formerContacts` it went away.
    /// - Throws: `accountNotFound`.
    public func deleteAccount(accountID: String) throws -> DeletedAccount {
        try database.transaction {
            guard try accounts.find(id: accountID) != nil else { throw AccountsError.accountNotFound }
            let peers = try ContactStore(database).removeAll(of: accountID)
            try MessageStore(database).deleteAll(involving: accountID)
            try outbox.cancelPending(recipient: accountID)
            // Device and reset tokens go with the row (ON DELETE CASCADE).
            try accounts.delete(id: accountID)
            return DeletedAccount(accountID: accountID, formerContacts: peers)
        }
    }

    // MARK: - Offline notices

    /// Queues the "you have a new message" mail if the recipient turned the offline
    /// e-mail notification on and no such mail to them is still waiting to go out.
    /// Call it in the transaction (or right after the commit) that stored the message.
    /// - Returns: whether a mail was queued.
    @discardableResult
    public func queueOfflineMessageNotice(recipientID: String, senderID: String) throws -> Bool {
        guard let recipient = try accounts.find(id: recipientID), recipient.wantsOfflineEmail else { return false }
        let time = now()
        let templates = configuration.mail
        // The presence core already sends at most one per offline period. A notice still
        // waiting in the outbox (the mail relay is slow or down) says the same thing as a
        // new one would, so it stands for both; once it has gone, a later offline period
        // gets its own.
        if try outbox.hasUnsent(recipient: recipientID, subject: templates.offlineMessageSubject) {
            return false
        }
        let sender = try accounts.find(id: senderID)
        let senderName = sender.map { String("\($0.firstName) \($0.lastName)".trimmingWhitespace()) } ?? senderID
        let mail = templates.offlineMessage(recipientID: recipientID, senderName: senderName, senderID: senderID, now: time)
        try outbox.enqueue(recipient: recipientID, subject: mail.subject, message: mail.rendered(), at: time)
        return true
    }
}
