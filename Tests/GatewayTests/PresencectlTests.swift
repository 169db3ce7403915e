import Accounts
import Foundation
import Storage
import Testing

/// The real `presencectl` binary against a temporary data directory: what an operator
/// runs while presenced is stopped.
@Suite(.serialized) struct PresencectlTests {
    let presencectl: BuiltProduct
    let directory: URL
    var databasePath: String { directory.appendingPathComponent("presence.sqlite3").path }

    init() throws {
        presencectl = try BuiltProduct("presencectl")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-\(UUID().uuidString)")
    }

    func ctl(_ arguments: String..., input: String? = nil) throws -> (status: Int32?, output: String, error: String) {
        try presencectl.run(arguments + ["--data-dir", directory.path], input: input)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: directory) }

    /// Signs in through Accounts, as the server would. - Returns: whether the password works.
    func passwordWorks(_ email: String, _ password: String) throws -> Bool {
        let limiter = RateLimiter(perAccount: RateLimit.signInPerAccount, perAddress: RateLimit.signInPerAddress, now: systemMillisecondClock)
        let service = AccountService(database: try Database(path: databasePath, migrate: false), signInLimiter: limiter, resetLimiter: limiter)
        do {
            _ = try service.signIn(email: email, password: password, device: .desktop, staySignedIn: false, sourceAddress: "127.0.0.1")
            return true
        } catch AccountsError.invalidCredentials {
            return false
        }
    }

    @Test func createdUserIsListedAndSignsInWithItsPassword() throws {
        defer { cleanUp() }
        let created = try ctl("users", "create", "Ann@Example.org", "--first", "Ann", "--last", "Lee", "--password", "Sunny#Day42")
        #expect(created.status == 0, "\(created.error)")
        #expect(created.output == "created ann@example.org\n")
        let listed = try ctl("users", "list")
        #expect(listed.output.contains("ann@example.org"))
        #expect(listed.output.contains("1 of 1 accounts"))
        #expect(try passwordWorks("ann@example.org", "Sunny#Day42"))
    }

    @Test func createReadsThePasswordFromStandardInput() throws {
        defer { cleanUp() }
        let created = try ctl("users", "create", "bo@example.org", "--first", "Bo", input: "Quiet#River7x\n")
        #expect(created.status == 0, "\(created.error)")
        #expect(try passwordWorks("bo@example.org", "Quiet#River7x"))
    }

    @Test func createAppliesThePasswordPolicyAndNamesEveryBrokenRule() throws {
        defer { cleanUp() }
        let weak = try ctl("users", "create", "ann@example.org", "--first", "Ann", "--password", "short")
        #expect(weak.status == 1)
        #expect(weak.error.contains("The password must have at least 10 characters; an uppercase letter (A-Z); a digit (0-9)"), "\(weak.error)")
        let created = try ctl("users", "create", "ann@example.org", "--first", "Ann", "--password", "Sunny#Day42")
        #expect(created.status == 0)
        let again = try ctl("users", "create", "ann@example.org", "--first", "Ann", "--password", "Sunny#Day42")
        #expect(again.status == 1)
        #expect(again.error.contains("already exists"))
    }

    @Test func setPasswordReplacesThePasswordAndRevokesDeviceTokens() throws {
        defer { cleanUp() }
        _ = try ctl("users", "create", "ann@example.org", "--first", "Ann", "--password", "Sunny#Day42")
        let weak = try ctl("users", "set-password", "ann@example.org", "--password", "alllowercase")
        #expect(weak.status == 1)
        #expect(weak.error.contains("an uppercase letter"))
        let set = try ctl("users", "set-password", "ann@example.org", input: "Rainy#Night17\n")
        #expect(set.status == 0, "\(set.error)")
        #expect(set.output.contains("password set for ann@example.org"))
        #expect(try passwordWorks("ann@example.org", "Rainy#Night17"))
        #expect(try !passwordWorks("ann@example.org", "Sunny#Day42"))
        let unknown = try ctl("users", "set-password", "nobody@example.org", "--password", "Rainy#Night17")
        #expect(unknown.status == 1)
        #expect(unknown.error.contains("no account nobody@example.org"))
    }

    @Test func deleteRemovesTheAccount() throws {
        defer { cleanUp() }
        _ = try ctl("users", "create", "ann@example.org", "--first", "Ann", "--password", "Sunny#Day42")
        let deleted = try ctl("users", "delete", "ann@example.org")
        #expect(deleted.status == 0, "\(deleted.error)")
        #expect(try ctl("users", "list").output.contains("0 of 0 accounts"))
        let again = try ctl("users", "delete", "ann@example.org")
        #expect(again.status == 1)
        #expect(again.error.contains("no account ann@example.org"))
    }

    @Test func commandsOnAMissingDatabaseSaySo() throws {
        defer { cleanUp() }
        for arguments in [["users", "list"], ["users", "delete", "a@example.org"], ["db", "check"]] {
            let result = try presencectl.run(arguments + ["--data-dir", directory.path])
            #expect(result.status == 1)
            #expect(result.error.contains("no database at \(databasePath)"), "\(arguments): \(result.error)")
        }
    }

    @Test func migrateBringsAnEmptyFileToTheCurrentVersionOnce() throws {
        defer { cleanUp() }
        let first = try ctl("db", "migrate")
        #expect(first.status == 0, "\(first.error)")
        #expect(first.output == "schema migrated from version 0 to \(Schema.currentVersion)\n")
        let second = try ctl("db", "migrate")
        #expect(second.output == "schema already at version \(Schema.currentVersion)\n")
        let database = try Database(path: databasePath, migrate: false)
        #expect(try Schema.version(of: database) == Schema.currentVersion)
    }

    @Test func checkPassesASoundDatabaseAndReportsBrokenForeignKeys() throws {
        defer { cleanUp() }
        _ = try ctl("users", "create", "ann@example.org", "--first", "Ann", "--password", "Sunny#Day42")
        let sound = try ctl("db", "check")
        #expect(sound.status == 0, "\(sound.output)\(sound.error)")
        #expect(sound.output.hasPrefix("ok: schema version \(Schema.currentVersion)"))

        // A device token whose account is gone, written with enforcement off.
        let database = try Database(path: databasePath, migrate: false)
        _ = try database.execute("PRAGMA foreign_keys = OFF")
        _ = try database.execute(
            "INSERT INTO device_tokens (account_id, token_hash, device_kind, created_at, last_used_at) VALUES (?, ?, 'desktop', 0, 0)",
            "ghost@example.org", [UInt8](repeating: 7, count: 32))
        let broken = try ctl("db", "check")
        #expect(broken.status == 1)
        #expect(broken.output.contains("foreign key violation in device_tokens"), "\(broken.output)")
        #expect(broken.error.contains("1 problem"))
    }

    @Test func checkReportsAnOldSchema() throws {
        defer { cleanUp() }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let database = try Database(path: databasePath, migrate: false)
        try Schema.migrate(database, migrations: Array(Schema.migrations.prefix(1)))
        let old = try ctl("db", "check")
        #expect(old.status == 1)
        #expect(old.output.contains("run presencectl db migrate"))
    }
}
