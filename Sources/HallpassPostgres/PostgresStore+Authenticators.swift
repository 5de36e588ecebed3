import Foundation
import HallpassCore
import HallpassStore
import PostgresNIO

/// TOTP authenticators and recovery codes (ARCHITECTURE.md §4.8), shared by every replica. Each
/// use is one conditional UPDATE: of two replicas given the same code at once, one row change wins.
extension PostgresStore: AuthenticatorStore {
    public func authenticator(userID: Int64) async throws -> AuthenticatorRecord? {
        try await first("""
            SELECT secret, created_at, confirmed_at, last_step,
                   (SELECT count(*) FROM recovery_codes r WHERE r.user_id = t.user_id AND r.used_at IS NULL)
            FROM totp_authenticators t WHERE user_id = \(userID)
            """) { row in
            let (secret, created, confirmed, lastStep, left) = try row.decode((Data, Double, Double?, Int64?, Int64).self)
            return AuthenticatorRecord(userID: userID, sealedSecret: secret, createdAt: Date(unix: created),
                                       confirmedAt: confirmed.map(Date.init(unix:)), lastStep: lastStep, recoveryCodesLeft: Int(left))
        }
    }

    public func beginEnrolment(userID: Int64, sealedSecret: Data, at now: Date) async throws -> Bool {
        try await count("""
            INSERT INTO totp_authenticators (user_id, secret, created_at, confirmed_at, last_step)
            VALUES (\(userID), \(sealedSecret), \(now.unix), NULL, NULL)
            ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = NULL
            WHERE totp_authenticators.confirmed_at IS NULL
            RETURNING 1
            """) == 1
    }

    public func confirmAuthenticator(userID: Int64, step: Int64, recoveryHashes: [String], at now: Date) async throws -> Bool {
        try await transaction { connection in
            guard try await Self.count("""
                UPDATE totp_authenticators SET confirmed_at = \(now.unix), last_step = \(step)
                WHERE user_id = \(userID) AND confirmed_at IS NULL RETURNING 1
                """, on: connection, logger: logger) == 1 else { return false }
            try await connection.query("DELETE FROM recovery_codes WHERE user_id = \(userID)", logger: logger)
            for hash in recoveryHashes {
                try await connection.query("INSERT INTO recovery_codes (user_id, code_hash) VALUES (\(userID), \(hash))", logger: logger)
            }
            return true
        }
    }

    public func useStep(userID: Int64, step: Int64) async throws -> Bool {
        try await count("""
            UPDATE totp_authenticators SET last_step = \(step)
            WHERE user_id = \(userID) AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < \(step)) RETURNING 1
            """) == 1
    }

    public func useRecoveryCode(userID: Int64, hash: String, at now: Date) async throws -> Bool {
        guard isStorable(hash) else { return false }
        return try await count("""
            UPDATE recovery_codes SET used_at = \(now.unix) WHERE user_id = \(userID) AND code_hash = \(hash) AND used_at IS NULL RETURNING 1
            """) == 1
    }

    public func removeAuthenticator(userID: Int64) async throws -> Bool {
        try await transaction { connection in
            try await connection.query("DELETE FROM recovery_codes WHERE user_id = \(userID)", logger: logger)
            return try await Self.count("DELETE FROM totp_authenticators WHERE user_id = \(userID) RETURNING 1",
                                        on: connection, logger: logger) == 1
        }
    }
}
