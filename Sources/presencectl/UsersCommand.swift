import Accounts
import ArgumentParser
import Foundation
import Storage

/// `presencectl users …`
struct UsersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users",
        abstract: "Create, delete and list accounts; set a password.",
        subcommands: [List.self, Create.self, Delete.self, SetPassword.self])

    /// The account service over `database`, with the server's policy and hashing cost.
    static func service(_ database: Database) -> AccountService {
        let limiter = RateLimiter(perAccount: RateLimit.signInPerAccount, perAddress: RateLimit.signInPerAddress, now: systemMillisecondClock)
        return AccountService(database: database, signInLimiter: limiter, resetLimiter: limiter)
    }

    /// `--password`, else one line of standard input (which keeps it out of `ps` and the
    /// shell history).
    static func password(_ given: String?) throws -> String {
        if let given { return given }
        guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw AdminError.noPassword }
        return line
    }

    /// `presencectl users list`
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List accounts: ID, chosen status, accepted contacts, valid device tokens.")

        @OptionGroup var data: DataDirectory

        @Option(help: "Show at most this many accounts, in ID order.")
        var limit = 50

        func run() throws {
            let database = try data.openExisting()
            let total = try database.queryFirst("SELECT count(*) FROM accounts") { $0.int(0) } ?? 0
            let rows = try database.query(
                """
                SELECT a.id, a.chosen_status,
                  (SELECT count(*) FROM contacts c WHERE c.state = 'accepted' AND (c.account_a = a.id OR c.account_b = a.id)),
                  (SELECT count(*) FROM device_tokens t WHERE t.account_id = a.id AND t.revoked_at IS NULL)
                FROM accounts a ORDER BY a.id LIMIT ?
                """, limit) { row in (row.text(0), row.text(1), row.int(2), row.int(3)) }
            print("account".padding(toLength: 36, withPad: " ", startingAt: 0) + " status   contacts  tokens")
            for (id, status, contacts, tokens) in rows {
                print(id.padding(toLength: 36, withPad: " ", startingAt: 0) + " " + status.padding(toLength: 8, withPad: " ", startingAt: 0)
                      + String(format: " %8d  %6d", contacts, tokens))
            }
            print("\(rows.count) of \(total) accounts")
        }
    }

    /// `presencectl users create EMAIL --first … --last … [--password …]`
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an account; the password policy applies as at sign-up.",
            discussion: "Without --password the password is read from one line of standard input.")

        @OptionGroup var data: DataDirectory

        @Argument(help: "The e-mail address: the account's ID.")
        var email: String

        @Option(help: "First name.")
        var first: String

        @Option(help: "Last name.")
        var last: String = ""

        @Option(help: "The password (visible to other users of this machine in ps; prefer standard input).")
        var password: String?

        @Flag(help: "E-mail the user about messages that arrive while they are logged out.")
        var offlineEmail = false

        func run() throws {
            let secret = try UsersCommand.password(password)
            let database = try data.openOrCreate()
            do {
                let profile = try UsersCommand.service(database).signUp(
                    email: email, firstName: first, lastName: last, password: secret, wantsOfflineEmail: offlineEmail)
                print("created \(profile.id)")
            } catch let error as AccountsError {
                throw AdminError.refused(error)
            }
        }
    }

    /// `presencectl users delete EMAIL`
    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete an account with its contacts, messages, device and reset tokens, and unsent mail.")

        @OptionGroup var data: DataDirectory

        @Argument(help: "The account's e-mail address.")
        var email: String

        func run() throws {
            let database = try data.openExisting()
            let id = EmailAddress.normalized(email) ?? email
            do {
                let deleted = try UsersCommand.service(database).deleteAccount(accountID: id)
                print("deleted \(deleted.accountID) (\(deleted.formerContacts.count) contacts told)")
            } catch AccountsError.accountNotFound {
                throw AdminError.noAccount(email: id)
            }
        }
    }

    /// `presencectl users set-password EMAIL [--password …]`
    struct SetPassword: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-password",
            abstract: "Set an account's password (the policy applies); revokes its device tokens and reset links.",
            discussion: "Without --password the password is read from one line of standard input.")

        @OptionGroup var data: DataDirectory

        @Argument(help: "The account's e-mail address.")
        var email: String

        @Option(help: "The new password (visible to other users of this machine in ps; prefer standard input).")
        var password: String?

        func run() throws {
            let secret = try UsersCommand.password(password)
            do {
                try PasswordPolicy().validate(secret)
            } catch {
                throw AdminError.refused(error)
            }
            let database = try data.openExisting()
            let id = EmailAddress.normalized(email) ?? email
            let hash = PasswordHasher().hash(secret)
            let now = systemMillisecondClock()
            // As a password change by the user: every device signs in again with the new
            // password, and no old reset link can undo it.
            let revoked: Int = try database.transaction {
                guard try AccountStore(database).setPasswordHash(id: id, hash, at: now) else { throw AdminError.noAccount(email: id) }
                let revoked = try DeviceTokenStore(database).revokeAll(accountID: id, at: now)
                _ = try ResetTokenStore(database).burnAll(accountID: id, at: now)
                return revoked
            }
            print("password set for \(id); \(revoked) device token(s) revoked")
        }
    }
}
