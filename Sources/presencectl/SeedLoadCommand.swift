import Accounts
import ArgumentParser
import Foundation
import Storage

/// `presencectl seed-load`: load-test users, their contact graph and device tokens, written
/// straight into the database in one transaction.
struct SeedLoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed-load",
        abstract: "Create N load-test accounts with a seeded contact graph and one device token each.",
        discussion: """
            Accounts are user0000@load.test, user0001@load.test, … with the password \
            \(Self.password.debugDescription) (one shared hash). Every user gets exactly C accepted \
            contacts, users 2k and 2k+1 always among them (chat pairs). Writes the plaintext device \
            tokens to --tokens (one per line, line i = user i) and the contact graph with the \
            hidden flags to --graph. Run it on a fresh data directory while presenced is stopped.
            """)

    /// The password every load-test account shares; they exist only on test machines.
    static let password = "Load-test-password-1"

    @Option(help: "The data directory presenced will use (its presence.sqlite3 is created if missing).")
    var dataDir: String

    @Option(help: "Seed this PostgreSQL database (postgresql://USER@HOST:PORT/DB) instead of the data directory's SQLite file. Default: $PRESENCE_DATABASE_URL, else none (empty).")
    var databaseURL: String = ProcessInfo.processInfo.environment["PRESENCE_DATABASE_URL"] ?? ""

    @Option(help: "Accounts to create (even, at least 2).")
    var users: Int

    @Option(help: "Accepted contacts per user (even, below --users).")
    var contacts: Int

    @Option(help: "Seed of the contact graph and of the hidden users: the same seed gives the same graph.")
    var seed: UInt64 = 1

    @Option(help: "Write the plaintext device tokens here, one per line (line i = user i).")
    var tokens: String

    @Option(help: "Write the contact graph here (default: the --tokens path plus .graph).")
    var graph: String?

    @Option(help: "Fraction of users whose chosen status is Hidden (0...1).")
    var hiddenFraction = 0.0

    func validate() throws {
        guard users >= 2, users % 2 == 0, users <= 1_000_000 else { throw ValidationError("--users \(users): must be even, 2...1000000") }
        guard contacts >= 0, contacts % 2 == 0, contacts < users else {
            throw ValidationError("--contacts \(contacts): must be even and below --users")
        }
        guard (0...1).contains(hiddenFraction) else { throw ValidationError("--hidden-fraction must be 0...1") }
    }

    func run() throws {
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
        let location = databaseURL.isEmpty
            ? .sqlite(path: (dataDir as NSString).appendingPathComponent("presence.sqlite3"))
            : try StorageLocation(databaseURL: databaseURL)
        let path = location.description
        let database = try Database(location: location)
        let existing = try database.queryFirst("SELECT count(*) FROM accounts WHERE id LIKE ?", "%@" + LoadUserNaming.domain) { $0.int(0) } ?? 0
        guard existing == 0 else { throw SeedLoadError.alreadySeeded(count: existing, path: path) }

        let started = Date()
        let naming = LoadUserNaming(userCount: users)
        let contactGraph = ContactGraph(userCount: users, degree: contacts, seed: seed)
        var chooser = SplitMix64(seed: seed ^ 0x4849_4444_454E)  // "HIDDEN": independent of the graph's stream
        var order = Array(0..<users)
        order.shuffle(using: &chooser)
        var hidden = Array(repeating: false, count: users)
        for user in order.prefix(Int((hiddenFraction * Double(users)).rounded())) { hidden[user] = true }

        // One scrypt hash for everyone: at ~100 ms per hash (N = 2^15, see ScryptParameters)
        // 10,000 distinct hashes would take 17 minutes. A shared salt means cracking one
        // cracks all, which is harmless for synthetic accounts and never done for real ones.
        let passwordHash = PasswordHasher().hash(Self.password)
        var tokenList: [String] = []
        tokenList.reserveCapacity(users)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try database.transaction {
            let accounts = AccountStore(database)
            let presence = PresenceStore(database)
            let deviceTokens = DeviceTokenStore(database)
            for user in 0..<users {
                let id = naming.email(user)
                try accounts.insert(AccountRecord(
                    id: id, firstName: "Load", lastName: "User \(user)", passwordHash: passwordHash,
                    wantsOfflineEmail: false, googleSubject: nil, createdAt: now, updatedAt: now))
                if hidden[user] { try presence.setChosenStatus(of: id, to: "hidden") }
                let token = DeviceTokenSecret.generate()
                try deviceTokens.insert(accountID: id, tokenHash: DeviceTokenSecret.hash(token), deviceKind: .desktop, at: now)
                tokenList.append(token)
            }
            // Direct SQL rather than ContactStore.request + accept: two statements and a
            // savepoint per pair would triple the time, and the rows are the same.
            try contactGraph.forEachEdge { a, b in
                let (first, second) = Self.byteOrdered(naming.email(a), naming.email(b))
                try database.execute(
                    "INSERT INTO contacts (account_a, account_b, requested_by, state, created_at, updated_at) VALUES (?, ?, ?, 'accepted', ?, ?)",
                    first, second, first, now, now)
            }
        }
        try proveTokenScheme(database: database, tokens: &tokenList, naming: naming)
        try LoadUserFiles.writeTokens(tokenList, to: tokens)
        let graphPath = graph ?? LoadUserFiles.defaultGraphPath(tokens: tokens)
        try LoadUserFiles.writeGraph(contactGraph, hidden: hidden, seed: seed, naming: naming, to: graphPath)
        let seconds = Date().timeIntervalSince(started)
        print("seeded \(users) users × \(contacts) contacts (\(users * contacts / 2) pairs), \(hidden.filter { $0 }.count) hidden, "
              + "in \(String(format: "%.2f", seconds)) s into \(path)")
        print("tokens: \(tokens)\ngraph:  \(graphPath)")
    }

    /// Signs user 0 in with its seeded token through Accounts itself, so a drift between
    /// `DeviceTokenSecret` and Accounts' hashing fails here, not as 10,000 refused sign-ins.
    /// The sign-in rotates the token; the rotated one goes to the file.
    private func proveTokenScheme(database: Database, tokens: inout [String], naming: LoadUserNaming) throws {
        let limiter = RateLimiter(perAccount: RateLimit.signInPerAccount, perAddress: RateLimit.signInPerAddress, now: systemMillisecondClock)
        let service = AccountService(database: database, signInLimiter: limiter, resetLimiter: limiter)
        do {
            let result = try service.signIn(deviceToken: tokens[0], sourceAddress: "127.0.0.1")
            guard result.profile.id == naming.email(0), let rotated = result.deviceToken else {
                throw SeedLoadError.tokenSchemeMismatch(reason: "signed in as \(result.profile.id)")
            }
            tokens[0] = rotated
        } catch let error as SeedLoadError {
            throw error
        } catch {
            throw SeedLoadError.tokenSchemeMismatch(reason: "\(error)")
        }
    }

    /// Smaller first by UTF-8 bytes, as the `contacts` table's CHECK (account_a < account_b)
    /// compares TEXT.
    static func byteOrdered(_ x: String, _ y: String) -> (String, String) {
        x.utf8.lexicographicallyPrecedes(y.utf8) ? (x, y) : (y, x)
    }
}
