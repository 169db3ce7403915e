import Foundation
import Gateway
import PresenceClient
import Storage
import StorageTestSupport
import Testing

/// The gateway on PostgreSQL (`--database-url`), end to end over real sockets: accounts,
/// chats and the backlog live in the database, not in a SQLite file, and survive a
/// restart on a fresh data directory. Runs when `PRESENCE_TEST_DATABASE_URL` names a
/// server (scripts/postgres.sh starts a private one); skipped with that note otherwise.
@Suite(.enabled(if: TestStorage.databaseURL != nil,
                "PRESENCE_TEST_DATABASE_URL unset: run through scripts/postgres.sh for the PostgreSQL end-to-end test"))
struct PostgresGatewayTests {
    @Test func accountsChatsAndBacklogLiveInPostgreSQLAcrossARestart() throws {
        let location = try TestStorage.freshPostgresSchema()
        guard case .postgres(let url) = location else { Issue.record("not a PostgreSQL location"); return }
        let database = try Database(location: location, migrate: false)
        let messages = MessageStore(database)
        let onPostgres: (inout GatewayConfiguration) -> Void = { $0.databaseURL = url }

        let firstDataDirectory: URL
        do {
            let g = try RunningGateway(onPostgres)
            firstDataDirectory = g.directory
            for n in ["alice", "bob"] { try g.signUp(n) }
            let (alice, _) = try g.signIn("alice")
            do {
                let (bob, _) = try g.signIn("bob")
                try g.befriend((alice, "alice"), (bob, "bob"))
                let ack = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "live-1", "body": "hello bob"])
                #expect(ack["receipt"] as? String == "delivered")
                // Committed in PostgreSQL by the time the ack arrived.
                let stored = try messages.history(between: "alice@example.com", and: "bob@example.com", limit: 10)
                #expect(stored.map(\.body) == ["hello bob"])
                let chat = try bob.event("chat")
                #expect(chat["body"] as? String == "hello bob")
                // Acknowledging the event marks the chat delivered (a write through the writer).
                _ = try bob.call("heartbeat", ["lastSeq": try #require(chat["seq"] as? Int)])
                #expect(g.eventually { (try? messages.undelivered(to: "bob@example.com", limit: 10).isEmpty) == true })
                _ = try bob.call("logOut")
            }
            for i in 1...2 {
                let ack = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "o-\(i)", "body": "later \(i)"])
                #expect(ack["receipt"] as? String == "stored")
                let pending = try messages.undelivered(to: "bob@example.com", limit: 10).map(\.body)
                #expect(pending == Array(["later 1", "later 2"].prefix(i)), "acked \(i): the row is already in PostgreSQL")
            }
            #expect(!FileManager.default.fileExists(atPath: g.databasePath), "no SQLite file beside PostgreSQL")
        }

        // A new process on a fresh data directory: everything it knows comes from PostgreSQL.
        let g = try RunningGateway(onPostgres)
        #expect(g.directory != firstDataDirectory)
        let (bob, _) = try g.signIn("bob")
        var chats: [[String: Any]] = []
        for _ in 0..<2 { chats.append(try bob.event("chat")) }
        #expect(chats.map { $0["body"] as? String } == ["later 1", "later 2"], "the backlog, and only it, in order")
        _ = try bob.call("heartbeat", ["lastSeq": try #require(chats.last?["seq"] as? Int)])
        #expect(g.eventually { (try? messages.undelivered(to: "bob@example.com", limit: 10).isEmpty) == true },
                "delivered backlog is marked so in PostgreSQL")
        let accounts = try database.queryFirst("SELECT count(*) FROM accounts") { $0.int(0) }
        #expect(accounts == 2)
    }

    @Test func aSendWhoseCommitPostgreSQLRefusesIsAnsweredStorageFailedNeverAcked() throws {
        let (location, g, alice, bob) = try RunningGateway.twoContactsOnFreshPostgresSchema()
        defer { withExtendedLifetime(g) {} }
        // A deferred constraint trigger runs at COMMIT, after the job itself succeeded:
        // the one way to make PostgreSQL refuse the batch's COMMIT on demand.
        let database = try Database(location: location, migrate: false)
        try database.executeScript("""
            CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.body = 'refused at commit' THEN RAISE EXCEPTION 'refused at commit (test)'; END IF;
                RETURN NULL;
            END
            $$;
            CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON messages
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();
            """)
        let refused = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "r-1", "body": "refused at commit"])
        #expect(refused["type"] as? String == "error")
        #expect(refused["code"] as? String == "storage_failed")
        #expect(try database.queryFirst("SELECT count(*) FROM messages") { $0.int(0) } == 0, "nothing stored")
        // Control: the next message on the same connections commits, is acked and arrives,
        // and it is the first chat bob sees (the refused one never reached him).
        let ack = try alice.call("send", ["to": "bob@example.com", "clientMessageId": "r-2", "body": "fine"])
        #expect(ack["type"] as? String == "ok")
        #expect(try bob.event("chat")["body"] as? String == "fine")
        #expect(try messages(in: database) == ["fine"])
    }

    private func messages(in database: Database) throws -> [String] {
        try database.query("SELECT body FROM messages ORDER BY id") { $0.text(0) }
    }

    @Test func presencectlTakesTheSameDatabaseURL() throws {
        let location = try TestStorage.freshPostgresSchema()
        guard case .postgres(let url) = location else { Issue.record("not a PostgreSQL location"); return }
        let presencectl = try BuiltProduct("presencectl")
        // A data directory that must stay untouched: no SQLite file appears beside PostgreSQL.
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-pg-\(UUID().uuidString)").path
        let migrated = try presencectl.run(["db", "migrate", "--database-url", url, "--data-dir", dataDir])
        #expect(migrated.status == 0, "\(migrated.error)")
        #expect(migrated.output == "schema migrated from version 0 to \(Schema.currentVersion)\n")
        // The environment variable works as the flag does.
        let environment = BuiltProduct.cleanEnvironment(["PRESENCE_DATABASE_URL": url, "PRESENCE_DATA_DIR": dataDir])
        let created = try presencectl.run(["users", "create", "ann@example.org", "--first", "Ann", "--password", "Sunny#Day42"],
                                          environment: environment)
        #expect(created.status == 0, "\(created.error)")
        let listed = try presencectl.run(["users", "list"], environment: environment)
        #expect(listed.output.contains("ann@example.org") && listed.output.contains("1 of 1 accounts"), "\(listed.output)")
        let checked = try presencectl.run(["db", "check"], environment: environment)
        #expect(checked.status == 0, "\(checked.output) \(checked.error)")
        #expect(checked.output.contains("schema version \(Schema.currentVersion)"))
        #expect(try AccountStore(Database(location: location, migrate: false)).find(id: "ann@example.org")?.firstName == "Ann")
        #expect(!FileManager.default.fileExists(atPath: dataDir))
    }
}

extension RunningGateway {
    /// A gateway on a new PostgreSQL schema with alice and bob signed up, signed in and
    /// contacts; the schema's location, to read what PostgreSQL holds.
    static func twoContactsOnFreshPostgresSchema() throws
        -> (location: StorageLocation, gateway: RunningGateway, alice: PresenceConnection, bob: PresenceConnection) {
        let location = try TestStorage.freshPostgresSchema()
        guard case .postgres(let url) = location else { throw TestStorageError.noDatabaseURL }
        let g = try RunningGateway { $0.databaseURL = url }
        for n in ["alice", "bob"] { try g.signUp(n) }
        let (alice, _) = try g.signIn("alice")
        let (bob, _) = try g.signIn("bob")
        try g.befriend((alice, "alice"), (bob, "bob"))
        return (location, g, alice, bob)
    }
}
