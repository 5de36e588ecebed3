import Foundation
import GRDB
import HallpassCore
import HallpassStore

/// The default store: one SQLite file in WAL mode with `synchronous=FULL` (ARCHITECTURE.md §5), shared
/// safely by a running server and the admin commands (busy timeout, `BEGIN IMMEDIATE` for every
/// read-then-write).
public final class SQLiteStore: Sendable {
    let pool: DatabasePool
    let grantInserts: GroupCommit<DeviceGrant, GrantInsertion>
    let decisions: GroupCommit<Decision, Bool>
    let rotations: GroupCommit<Rotation, RotationResult>
    let hot: HotReader
    /// Held while the store is open, so `hallpass restore` cannot replace the file under it.
    let lock: DatabaseLock?

    /// Opens (creating if needed, mode 0600) the database at `path` and applies migrations.
    public init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        // Small footprint: the hot path reads through `HotReader`, GRDB's readers serve the rest.
        config.maximumReaderCount = 2
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(sql: "PRAGMA cache_size = -1024")  // 1 MiB page cache per connection
        }
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        lock = try DatabaseLock.shared(forDatabase: path)
        // It holds password hashes and the signing keys: a new file is the owner's only, whatever
        // the umask, and SQLite gives its -wal and -shm files the database file's mode.
        let created = Foundation.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if created >= 0 { close(created) }
        pool = try DatabasePool(path: path, configuration: config)
        try SQLiteStore.migrator.migrate(pool)
        hot = HotReader(path: path, connections: 2)
        let pool = self.pool
        grantInserts = GroupCommit { grants in
            try await pool.write { db in
                try grants.map { grant in try SQLiteStore.insert(grant, in: db) }
            }
        }
        decisions = GroupCommit { decisions in
            try await pool.write { db in
                try decisions.map { decision in try SQLiteStore.record(decision, in: db) }
            }
        }
        rotations = GroupCommit { rotations in
            try await pool.write { db in
                try rotations.map { rotation in try SQLiteStore.rotate(rotation, in: db) }
            }
        }
    }

    /// The journal mode in force (for tests that check durability settings).
    public func pragma(_ name: String) async throws -> String? {
        guard name.allSatisfy({ $0.isLetter || $0 == "_" }) else { return nil }
        return try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA \(name)") }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE clients (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    secret_hash TEXT,
                    scopes TEXT NOT NULL,
                    grant_types TEXT NOT NULL,
                    code_lifetime REAL NOT NULL,
                    interval INTEGER NOT NULL,
                    can_introspect INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE users (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    disabled INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL
                );
                CREATE TABLE scopes (
                    name TEXT PRIMARY KEY,
                    description TEXT NOT NULL
                );
                CREATE TABLE device_grants (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    device_code_hash TEXT NOT NULL UNIQUE,
                    user_code TEXT NOT NULL,
                    client_id TEXT NOT NULL,
                    requested_scopes TEXT NOT NULL,
                    granted_scopes TEXT,
                    status TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    expires_at REAL NOT NULL,
                    interval INTEGER NOT NULL,
                    user_id INTEGER,
                    decided_at REAL,
                    redeemed_at REAL,
                    device_ip TEXT NOT NULL,
                    user_agent TEXT NOT NULL,
                    guess_budget INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX device_grants_live_user_code ON device_grants(user_code) WHERE status = 'pending';
                CREATE INDEX device_grants_expiry ON device_grants(status, expires_at);
                CREATE TABLE token_families (
                    id TEXT PRIMARY KEY,
                    client_id TEXT NOT NULL,
                    user_id INTEGER NOT NULL,
                    scopes TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    auth_time REAL NOT NULL,
                    revoked_at REAL
                );
                CREATE TABLE refresh_tokens (
                    token_hash TEXT PRIMARY KEY,
                    family_id TEXT NOT NULL REFERENCES token_families(id) ON DELETE CASCADE,
                    client_id TEXT NOT NULL,
                    user_id INTEGER NOT NULL,
                    scopes TEXT NOT NULL,
                    issued_at REAL NOT NULL,
                    expires_at REAL NOT NULL,
                    used_at REAL,
                    revoked_at REAL
                );
                CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);
                CREATE TABLE access_tokens (
                    jti TEXT PRIMARY KEY,
                    family_id TEXT NOT NULL REFERENCES token_families(id) ON DELETE CASCADE,
                    client_id TEXT NOT NULL,
                    user_id INTEGER NOT NULL,
                    scopes TEXT NOT NULL,
                    issued_at REAL NOT NULL,
                    expires_at REAL NOT NULL,
                    revoked_at REAL
                );
                CREATE INDEX access_tokens_family ON access_tokens(family_id);
                CREATE TABLE signing_keys (
                    kid TEXT PRIMARY KEY,
                    algorithm TEXT NOT NULL,
                    private_key BLOB NOT NULL,
                    created_at REAL NOT NULL,
                    retired_at REAL
                );
                CREATE TABLE consent_sessions (
                    token_hash TEXT PRIMARY KEY,
                    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    created_at REAL NOT NULL,
                    expires_at REAL NOT NULL,
                    source TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-ssh-keys") { db in
            try db.execute(sql: """
                CREATE TABLE ssh_keys (
                    blob TEXT PRIMARY KEY,
                    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    type TEXT NOT NULL,
                    fingerprint TEXT NOT NULL,
                    comment TEXT NOT NULL,
                    added_at REAL NOT NULL
                );
                CREATE INDEX ssh_keys_user ON ssh_keys(user_id);
                """)
        }
        // OpenID Connect Registration §2: the algorithm a client wants its ID tokens signed with.
        migrator.registerMigration("v3-id-token-alg") { db in
            try db.execute(sql: "ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT")
        }
        // The guards PostgreSQL has had from v1: one token family per grant, one successor per
        // refresh token. Rows from before carry NULL, which a unique index allows many times.
        migrator.registerMigration("v4-token-guards") { db in
            try db.execute(sql: """
                ALTER TABLE token_families ADD COLUMN grant_id INTEGER;
                CREATE UNIQUE INDEX token_families_grant_id_key ON token_families(grant_id);
                ALTER TABLE refresh_tokens ADD COLUMN parent_hash TEXT;
                CREATE UNIQUE INDEX refresh_tokens_parent_hash_key ON refresh_tokens(parent_hash);
                """)
        }
        // Issue 15: clients' redirect URIs, and the browser sign-ins that wait as grants.
        migrator.registerMigration("v5-authorization-code") { db in
            try db.execute(sql: """
                ALTER TABLE clients ADD COLUMN redirect_uris TEXT;
                ALTER TABLE device_grants ADD COLUMN redirect_uri TEXT;
                ALTER TABLE device_grants ADD COLUMN redirect_uri_sent INTEGER;
                ALTER TABLE device_grants ADD COLUMN state TEXT;
                ALTER TABLE device_grants ADD COLUMN code_challenge TEXT;
                ALTER TABLE device_grants ADD COLUMN nonce TEXT;
                ALTER TABLE device_grants ADD COLUMN code_hash TEXT;
                CREATE UNIQUE INDEX device_grants_code_hash_key ON device_grants(code_hash);
                """)
        }
        // Issue 16: DPoP (RFC 9449). Clients that must use it, the key a public client's refresh
        // tokens are bound to, and the proofs seen (§11.1).
        migrator.registerMigration("v6-dpop") { db in
            try db.execute(sql: """
                ALTER TABLE clients ADD COLUMN require_dpop INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE token_families ADD COLUMN dpop_jkt TEXT;
                CREATE TABLE dpop_proofs (key TEXT PRIMARY KEY, expires_at REAL NOT NULL);
                CREATE INDEX dpop_proofs_expires_at ON dpop_proofs(expires_at);
                """)
        }
        // Issue 17: cross-device defences (BCP 247) per client.
        migrator.registerMigration("v7-cross-device") { db in
            try db.execute(sql: """
                ALTER TABLE clients ADD COLUMN proximity TEXT NOT NULL DEFAULT 'warn';
                ALTER TABLE clients ADD COLUMN device_networks TEXT;
                ALTER TABLE device_grants ADD COLUMN login_hint TEXT;
                ALTER TABLE device_grants ADD COLUMN decided_via TEXT;
                ALTER TABLE consent_sessions ADD COLUMN front TEXT;
                ALTER TABLE clients ADD COLUMN access_token_lifetime REAL;
                ALTER TABLE clients ADD COLUMN refresh_token_lifetime REAL;
                ALTER TABLE clients ADD COLUMN refresh_idle_lifetime REAL;
                ALTER TABLE clients ADD COLUMN cross_device_scopes TEXT;
                """)
        }
        // Issue 18: the second factor. Authenticators and recovery codes, what a session and a
        // decision were authenticated with, step-up scopes and clients that require a code.
        migrator.registerMigration("v8-second-factor") { db in
            try db.execute(sql: """
                CREATE TABLE totp_authenticators (
                    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                    secret BLOB NOT NULL,
                    created_at REAL NOT NULL,
                    confirmed_at REAL,
                    last_step INTEGER
                );
                CREATE TABLE recovery_codes (
                    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    code_hash TEXT NOT NULL,
                    used_at REAL,
                    PRIMARY KEY (user_id, code_hash)
                );
                ALTER TABLE consent_sessions ADD COLUMN amr TEXT;
                ALTER TABLE consent_sessions ADD COLUMN otp_at REAL;
                ALTER TABLE consent_sessions ADD COLUMN otp_pending INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE device_grants ADD COLUMN amr TEXT;
                ALTER TABLE device_grants ADD COLUMN acr TEXT;
                ALTER TABLE device_grants ADD COLUMN auth_time REAL;
                ALTER TABLE token_families ADD COLUMN amr TEXT;
                ALTER TABLE token_families ADD COLUMN acr TEXT;
                ALTER TABLE scopes ADD COLUMN step_up INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE clients ADD COLUMN require_totp INTEGER NOT NULL DEFAULT 0;
                """)
        }
        // Issue 19: backchannel authentication requests (CIBA) wait as grants too.
        migrator.registerMigration("v9-ciba") { db in
            try db.execute(sql: """
                ALTER TABLE device_grants ADD COLUMN backchannel INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE device_grants ADD COLUMN binding_message TEXT;
                ALTER TABLE device_grants ADD COLUMN auth_req_id TEXT;
                ALTER TABLE device_grants ADD COLUMN client_notification_token TEXT;
                CREATE INDEX device_grants_inbox ON device_grants(login_hint, status);
                ALTER TABLE clients ADD COLUMN ciba_mode TEXT NOT NULL DEFAULT 'poll';
                ALTER TABLE clients ADD COLUMN ciba_notification_endpoint TEXT;
                """)
        }
        return migrator
    }
}

extension Row {
    func date(_ column: String) -> Date? {
        (self[column] as Double?).map(Date.init(unix:))
    }
    func scopes(_ column: String) -> ScopeSet {
        ScopeSet(words: self[column] as String?)
    }
}

/// Is this the SQLite error for a violated UNIQUE or PRIMARY KEY constraint?
func isUniqueViolation(_ error: any Error) -> Bool {
    guard let error = error as? DatabaseError else { return false }
    return error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
        || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
}
