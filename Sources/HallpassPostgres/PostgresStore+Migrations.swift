import Foundation
import PostgresNIO

/// Versioned schema (the same tables as SQLite's, in PostgreSQL types). Applied in one
/// transaction that first takes an advisory lock, so replicas starting together apply each
/// migration exactly once and wait for each other.
extension PostgresStore {
    static let migrationLock: Int64 = 0x4841_4C4C_5041_5353  // "HALLPASS"

    static let migrations: [(name: String, sql: [String])] = [
        ("v1", [
            """
            CREATE TABLE clients (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                secret_hash TEXT,
                scopes TEXT NOT NULL,
                grant_types TEXT NOT NULL,
                code_lifetime DOUBLE PRECISION NOT NULL,
                "interval" BIGINT NOT NULL,
                can_introspect BOOLEAN NOT NULL DEFAULT FALSE
            )
            """,
            """
            CREATE TABLE users (
                id BIGSERIAL PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                password_hash TEXT NOT NULL,
                disabled BOOLEAN NOT NULL DEFAULT FALSE,
                created_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE TABLE scopes (name TEXT PRIMARY KEY, description TEXT NOT NULL)",
            """
            CREATE TABLE device_grants (
                id BIGSERIAL PRIMARY KEY,
                device_code_hash TEXT NOT NULL UNIQUE,
                user_code TEXT NOT NULL,
                client_id TEXT NOT NULL,
                requested_scopes TEXT NOT NULL,
                granted_scopes TEXT,
                status TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL,
                "interval" BIGINT NOT NULL,
                user_id BIGINT,
                decided_at DOUBLE PRECISION,
                redeemed_at DOUBLE PRECISION,
                device_ip TEXT NOT NULL,
                user_agent TEXT NOT NULL,
                guess_budget BIGINT NOT NULL
            )
            """,
            "CREATE UNIQUE INDEX device_grants_live_user_code ON device_grants(user_code) WHERE status = 'pending'",
            "CREATE INDEX device_grants_expiry ON device_grants(status, expires_at)",
            """
            CREATE TABLE token_families (
                id TEXT PRIMARY KEY,
                client_id TEXT NOT NULL,
                user_id BIGINT NOT NULL,
                scopes TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                auth_time DOUBLE PRECISION NOT NULL,
                revoked_at DOUBLE PRECISION,
                grant_id BIGINT UNIQUE
            )
            """,
            """
            CREATE TABLE refresh_tokens (
                token_hash TEXT PRIMARY KEY,
                family_id TEXT NOT NULL REFERENCES token_families(id) ON DELETE CASCADE,
                client_id TEXT NOT NULL,
                user_id BIGINT NOT NULL,
                scopes TEXT NOT NULL,
                issued_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL,
                used_at DOUBLE PRECISION,
                revoked_at DOUBLE PRECISION,
                parent_hash TEXT UNIQUE
            )
            """,
            "CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id)",
            """
            CREATE TABLE access_tokens (
                jti TEXT PRIMARY KEY,
                family_id TEXT NOT NULL REFERENCES token_families(id) ON DELETE CASCADE,
                client_id TEXT NOT NULL,
                user_id BIGINT NOT NULL,
                scopes TEXT NOT NULL,
                issued_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL,
                revoked_at DOUBLE PRECISION
            )
            """,
            "CREATE INDEX access_tokens_family ON access_tokens(family_id)",
            """
            CREATE TABLE signing_keys (
                kid TEXT PRIMARY KEY,
                algorithm TEXT NOT NULL,
                private_key BYTEA NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                retired_at DOUBLE PRECISION
            )
            """,
            """
            CREATE TABLE consent_sessions (
                token_hash TEXT PRIMARY KEY,
                user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                created_at DOUBLE PRECISION NOT NULL,
                expires_at DOUBLE PRECISION NOT NULL,
                source TEXT NOT NULL
            )
            """,
            """
            CREATE TABLE ssh_keys (
                blob TEXT PRIMARY KEY,
                user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                type TEXT NOT NULL,
                fingerprint TEXT NOT NULL,
                comment TEXT NOT NULL,
                added_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX ssh_keys_user ON ssh_keys(user_id)",
        ]),
        // The consent API's failure budgets, shared by every replica (`FailureLedger`).
        ("v2-failed-attempts", [
            "CREATE TABLE failed_attempts (budget TEXT NOT NULL, key TEXT NOT NULL, at DOUBLE PRECISION NOT NULL)",
            "CREATE INDEX failed_attempts_key ON failed_attempts(budget, key, at)",
            "CREATE INDEX failed_attempts_at ON failed_attempts(at)",
        ]),
        // OpenID Connect Registration §2: the algorithm a client wants its ID tokens signed with.
        ("v3-id-token-alg", [
            "ALTER TABLE clients ADD COLUMN id_token_signed_response_alg TEXT",
        ]),
        // Issue 15: clients' redirect URIs, and the browser sign-ins that wait as grants.
        ("v4-authorization-code", [
            "ALTER TABLE clients ADD COLUMN redirect_uris TEXT",
            """
            ALTER TABLE device_grants ADD COLUMN redirect_uri TEXT, ADD COLUMN redirect_uri_sent BOOLEAN,
                ADD COLUMN state TEXT, ADD COLUMN code_challenge TEXT, ADD COLUMN nonce TEXT,
                ADD COLUMN code_hash TEXT UNIQUE
            """,
        ]),
        // Issue 16: DPoP (RFC 9449). Clients that must use it, the key a public client's refresh
        // tokens are bound to, and the proofs seen, shared by every replica (§11.1).
        ("v5-dpop", [
            "ALTER TABLE clients ADD COLUMN require_dpop BOOLEAN NOT NULL DEFAULT FALSE",
            "ALTER TABLE token_families ADD COLUMN dpop_jkt TEXT",
            "CREATE TABLE dpop_proofs (key TEXT PRIMARY KEY, expires_at DOUBLE PRECISION NOT NULL)",
            "CREATE INDEX dpop_proofs_expires_at ON dpop_proofs(expires_at)",
        ]),
        // Issue 17: cross-device defences (BCP 247) per client.
        ("v6-cross-device", [
            "ALTER TABLE clients ADD COLUMN proximity TEXT NOT NULL DEFAULT 'warn'",
            "ALTER TABLE clients ADD COLUMN device_networks TEXT",
            "ALTER TABLE device_grants ADD COLUMN login_hint TEXT, ADD COLUMN decided_via TEXT",
            "ALTER TABLE consent_sessions ADD COLUMN front TEXT",
            """
            ALTER TABLE clients ADD COLUMN access_token_lifetime DOUBLE PRECISION, ADD COLUMN refresh_token_lifetime DOUBLE PRECISION,
                ADD COLUMN refresh_idle_lifetime DOUBLE PRECISION, ADD COLUMN cross_device_scopes TEXT
            """,
        ]),
        // Issue 18: the second factor. Authenticators and recovery codes, what a session and a
        // decision were authenticated with, step-up scopes and clients that require a code.
        ("v7-second-factor", [
            """
            CREATE TABLE totp_authenticators (
                user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
                secret BYTEA NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                confirmed_at DOUBLE PRECISION,
                last_step BIGINT
            )
            """,
            """
            CREATE TABLE recovery_codes (
                user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                code_hash TEXT NOT NULL,
                used_at DOUBLE PRECISION,
                PRIMARY KEY (user_id, code_hash)
            )
            """,
            "ALTER TABLE consent_sessions ADD COLUMN amr TEXT, ADD COLUMN otp_at DOUBLE PRECISION, ADD COLUMN otp_pending BOOLEAN NOT NULL DEFAULT FALSE",
            "ALTER TABLE device_grants ADD COLUMN amr TEXT, ADD COLUMN acr TEXT, ADD COLUMN auth_time DOUBLE PRECISION",
            "ALTER TABLE token_families ADD COLUMN amr TEXT, ADD COLUMN acr TEXT",
            "ALTER TABLE scopes ADD COLUMN step_up BOOLEAN NOT NULL DEFAULT FALSE",
            "ALTER TABLE clients ADD COLUMN require_totp BOOLEAN NOT NULL DEFAULT FALSE",
        ]),
        // Issue 19: backchannel authentication requests (CIBA) wait as grants too.
        ("v8-ciba", [
            """
            ALTER TABLE device_grants ADD COLUMN backchannel BOOLEAN NOT NULL DEFAULT FALSE, ADD COLUMN binding_message TEXT,
                ADD COLUMN auth_req_id TEXT, ADD COLUMN client_notification_token TEXT
            """,
            "ALTER TABLE clients ADD COLUMN ciba_mode TEXT NOT NULL DEFAULT 'poll', ADD COLUMN ciba_notification_endpoint TEXT",
            "CREATE INDEX device_grants_inbox ON device_grants(login_hint, status)",
        ]),
    ]

    /// Applies what is missing in one transaction on `connection` (the probe's, before the pool runs).
    static func migrate(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("BEGIN", logger: logger)
        do {
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS hallpass_migrations (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)
                """, logger: logger)
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM hallpass_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            for migration in Self.migrations where !applied.contains(migration.name) {
                for statement in migration.sql {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("""
                    INSERT INTO hallpass_migrations (name, applied_at) VALUES (\(migration.name), \(Date().unix))
                    """, logger: logger)
            }
            try await connection.query("COMMIT", logger: logger)
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
