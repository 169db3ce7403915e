/// One numbered step of the schema. Versions start at 1 and increase by one; a step,
/// once shipped, is never edited: a change is a new step.
///
/// A step has one text per engine where their DDL differs (SQLite's `WITHOUT ROWID`,
/// rowid keys and triggers against PostgreSQL's identity columns, `bytea` and
/// PL/pgSQL); the version numbers are the same on both, and so is what each step means.
public struct Migration: Sendable {
    /// The version the database has after this step.
    public let version: Int
    /// The DDL of the step for SQLite, run in one transaction with the version bump.
    public let sql: String
    /// The DDL of the step for PostgreSQL.
    public let postgresSQL: String

    /// - Parameter postgresSQL: the PostgreSQL text when it differs from `sql`.
    public init(version: Int, sql: String, postgresSQL: String? = nil) {
        self.version = version
        self.sql = sql
        self.postgresSQL = postgresSQL ?? sql
    }

    func sql(for engine: StorageEngine) -> String {
        engine == .sqlite ? sql : postgresSQL
    }
}

/// The schema of the gateway's database and the migrations that build it.
///
/// SQLite keeps the version in `PRAGMA user_version` (a field of the file header, so it
/// commits or rolls back with the step that sets it); PostgreSQL in the one-row table
/// `schema_version`, written in the step's transaction. Opening a database runs the
/// steps above its version, each in its own transaction; reopening runs none. Each step
/// re-reads the version inside its transaction (which holds the write lock), so two
/// processes starting together on one PostgreSQL database do not apply a step twice.
public enum Schema {
    /// Every migration, in order.
    public static let migrations: [Migration] = [
        Migration(version: 1, sql: version1, postgresSQL: PostgresSchema.version1),
        Migration(version: 2, sql: version2, postgresSQL: PostgresSchema.version2),
        Migration(version: 3, sql: version3, postgresSQL: PostgresSchema.version3),
        Migration(version: 4, sql: version4, postgresSQL: PostgresSchema.version4),
        Migration(version: 5, sql: version5ShownPresence, postgresSQL: PostgresSchema.version5ShownPresence),
        Migration(version: 6, sql: version6ContactsByBCovering),
    ]

    /// The version this binary writes.
    public static var currentVersion: Int { migrations.last?.version ?? 0 }

    /// The database's schema version (0 for a new one).
    public static func version(of database: Database) throws -> Int {
        switch database.engine {
        case .sqlite:
            return try database.queryFirst("PRAGMA user_version") { $0.int(0) } ?? 0
        case .postgres:
            // to_regclass follows search_path, as the unqualified table names do.
            let exists = try database.queryFirst("SELECT to_regclass('schema_version') IS NOT NULL") { $0.bool(0) } ?? false
            guard exists else { return 0 }
            return try database.queryFirst("SELECT version FROM schema_version") { $0.int(0) } ?? 0
        }
    }

    /// Applies every migration above the database's version.
    /// - Throws: `StorageError.schemaTooNew` when the database is newer than `migrations`.
    public static func migrate(_ database: Database, migrations: [Migration] = Schema.migrations) throws {
        let known = migrations.last?.version ?? 0
        let startVersion = try version(of: database)
        if startVersion > known {
            throw StorageError.schemaTooNew(fileVersion: startVersion, knownVersion: known)
        }
        for migration in migrations where migration.version > startVersion {
            try database.transaction {
                guard try version(of: database) < migration.version else { return }
                try database.executeScript(migration.sql(for: database.engine))
                try setVersion(migration.version, of: database)
            }
        }
    }

    private static func setVersion(_ version: Int, of database: Database) throws {
        switch database.engine {
        case .sqlite:
            // PRAGMA takes no parameters; the version is an Int from this file.
            try database.execute("PRAGMA user_version = \(version)")
        case .postgres:
            try database.executeScript("""
                CREATE TABLE IF NOT EXISTS schema_version (
                    only_row BOOLEAN PRIMARY KEY DEFAULT true CHECK (only_row),
                    version INTEGER NOT NULL
                )
                """)
            try database.execute(
                "INSERT INTO schema_version (only_row, version) VALUES (true, ?) ON CONFLICT (only_row) DO UPDATE SET version = excluded.version",
                version)
        }
    }

    /// SQLite: runs `integrity_check` and `foreign_key_check`. PostgreSQL enforces its
    /// constraints on every write and has no file to check, so it reports none.
    /// - Returns: the problems found, empty when the database is sound.
    public static func integrityProblems(of database: Database) throws -> [String] {
        guard database.engine == .sqlite else { return [] }
        var problems = try database.query("PRAGMA integrity_check") { $0.text(0) }.filter { $0 != "ok" }
        problems += try database.query("PRAGMA foreign_key_check") { row in
            "foreign key violation in \(row.text(0)) rowid \(row.int64(1)) -> \(row.text(2))"
        }
        return problems
    }

    // Timestamps are milliseconds since the Unix epoch (INTEGER). Booleans are 0/1.
    // Secrets (device and reset tokens) are stored only as SHA-256 hashes.
    private static let version1 = """
        CREATE TABLE accounts (
            id TEXT PRIMARY KEY NOT NULL CHECK (id = lower(id)),  -- the e-mail address, lowercased
            first_name TEXT NOT NULL,
            last_name TEXT NOT NULL,
            password_hash TEXT,                -- NULL: signed up through Google, no password yet
            wants_offline_email INTEGER NOT NULL DEFAULT 0,
            google_subject TEXT UNIQUE,        -- the `sub` claim of a linked Google account
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE device_tokens (
            id INTEGER PRIMARY KEY,
            account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            token_hash BLOB NOT NULL UNIQUE,
            device_kind TEXT NOT NULL CHECK (device_kind IN ('desktop', 'mobile', 'web')),
            created_at INTEGER NOT NULL,
            last_used_at INTEGER NOT NULL,
            revoked_at INTEGER
        );
        CREATE INDEX device_tokens_by_account ON device_tokens(account_id);

        CREATE TABLE reset_tokens (
            token_hash BLOB PRIMARY KEY NOT NULL,
            account_id TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX reset_tokens_by_account ON reset_tokens(account_id);

        -- One row per pair, the smaller ID first, so a pair cannot exist twice.
        CREATE TABLE contacts (
            account_a TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            account_b TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            requested_by TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            PRIMARY KEY (account_a, account_b),
            CHECK (account_a < account_b),
            CHECK (requested_by IN (account_a, account_b))
        ) WITHOUT ROWID;
        CREATE INDEX contacts_by_b ON contacts(account_b);

        CREATE TABLE messages (
            id INTEGER PRIMARY KEY,            -- also the order of a conversation
            sender TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            recipient TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            client_message_id TEXT NOT NULL,   -- the sender's ID: a resend is recognised
            body TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            is_delivered INTEGER NOT NULL DEFAULT 0,
            UNIQUE (sender, client_message_id)
        );
        -- Paged history of a conversation (both directions), newest first.
        CREATE INDEX messages_by_conversation
            ON messages(min(sender, recipient), max(sender, recipient), id);
        -- Undelivered messages of a recipient on sign-in; also serves the cascade.
        CREATE INDEX messages_by_recipient ON messages(recipient, is_delivered, id);

        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            recipient TEXT NOT NULL,
            subject TEXT NOT NULL,
            message BLOB NOT NULL,             -- the whole RFC 5322 message, CRLF lines
            created_at INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER NOT NULL,
            last_error TEXT,
            sent_at INTEGER,
            abandoned_at INTEGER
        );
        CREATE INDEX outbox_due ON outbox(next_attempt_at)
            WHERE sent_at IS NULL AND abandoned_at IS NULL;
        """

    /// The presence state that outlives a session: the status each user chose (it applies
    /// to every device and every later session) and missed calls.
    static let version2 = """
        ALTER TABLE accounts ADD COLUMN chosen_status TEXT NOT NULL DEFAULT 'online'
            CHECK (chosen_status IN ('online', 'busy', 'hidden'));
        CREATE TABLE missed_calls (
            id INTEGER PRIMARY KEY,
            call_id INTEGER NOT NULL,
            caller TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            callee TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            at INTEGER NOT NULL
        );
        CREATE INDEX missed_calls_by_callee ON missed_calls (callee, at);
        """

    /// Device-token rotation with grace: the token a rotation replaced keeps working until
    /// `previous_valid_until` or until the new token is first used (which clears it), so a
    /// sign-in reply lost in transit does not log the device out. A unique index rather
    /// than a UNIQUE column: SQLite's ADD COLUMN cannot add one.
    static let version3 = """
        ALTER TABLE device_tokens ADD COLUMN previous_token_hash BLOB;
        ALTER TABLE device_tokens ADD COLUMN previous_valid_until INTEGER;
        CREATE UNIQUE INDEX device_tokens_by_previous_hash ON device_tokens(previous_token_hash)
            WHERE previous_token_hash IS NOT NULL;
        """

    /// Contact requests to addresses without an account. `contacts` holds only pairs of
    /// accounts (foreign keys), yet a requester must not learn whether the address has an
    /// account, so such a request is kept here, listed as the requester's outgoing request,
    /// and becomes an ordinary pending request in the same transaction that creates the
    /// account (the trigger), whatever creates it (sign-up, Google sign-in, presencectl).
    static let version4 = """
        CREATE TABLE contact_invitations (
            requester TEXT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
            invitee TEXT NOT NULL,             -- an address with no account (yet)
            created_at INTEGER NOT NULL,
            PRIMARY KEY (requester, invitee),
            CHECK (requester <> invitee)
        ) WITHOUT ROWID;
        CREATE INDEX contact_invitations_by_invitee ON contact_invitations(invitee);

        CREATE TRIGGER contact_invitations_become_requests AFTER INSERT ON accounts
        BEGIN
            INSERT OR IGNORE INTO contacts (account_a, account_b, requested_by, state, created_at, updated_at)
                SELECT min(requester, NEW.id), max(requester, NEW.id), requester, 'pending', created_at, created_at
                FROM contact_invitations WHERE invitee = NEW.id;
            DELETE FROM contact_invitations WHERE invitee = NEW.id;
        END;
        """

    // MARK: - Version 5: presence shown at drain (kept apart so its number can change)

    /// What contacts were shown of each user when the gateway drained: the next process
    /// keeps showing it through the disconnect grace, so a restart shows contacts nothing.
    /// The public view only (a hidden user is `offline`), so a row never reveals Hidden.
    /// No foreign key: rows live for one restart, and a deleted account's row is harmless.
    static let version5ShownPresence = """
        CREATE TABLE shown_presence (
            account_id TEXT PRIMARY KEY NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('offline', 'idle', 'mobile', 'online', 'busy')),
            last_seen INTEGER,                 -- only for offline, when known
            drained_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    // MARK: - Version 6: a covering index for the contacts of a sign-in (kept apart so its number can change)

    /// A user's contacts are the rows where they are `account_a` (a range of the primary
    /// key) and those where they are `account_b`. Through `contacts_by_b` every one of the
    /// latter cost a second B-tree search for the rest of its row; with the row's other
    /// columns in the index it is read from the index alone. Sign-in reads a user's
    /// contacts in the storage writer's job, and these searches were most of that job in a
    /// sign-in storm. The new index also serves what `contacts_by_b` served (its prefix).
    /// The same text on both engines.
    static let version6ContactsByBCovering = """
        CREATE INDEX contacts_by_b_covering ON contacts(account_b, state, requested_by, updated_at);
        DROP INDEX contacts_by_b;
        """
}
