import Foundation
import GRDB
import HallpassCore
import HallpassStore

/// TOTP authenticators and recovery codes (ARCHITECTURE.md §4.8). Writes are serialized by
/// SQLite, so each conditional update decides alone.
extension SQLiteStore: AuthenticatorStore {
    public func authenticator(userID: Int64) async throws -> AuthenticatorRecord? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT secret, created_at, confirmed_at, last_step,
                       (SELECT count(*) FROM recovery_codes r WHERE r.user_id = t.user_id AND r.used_at IS NULL) AS left
                FROM totp_authenticators t WHERE user_id = ?
                """, arguments: [userID]) else { return nil }
            return AuthenticatorRecord(userID: userID, sealedSecret: row["secret"], createdAt: row.date("created_at") ?? .distantPast,
                                       confirmedAt: row.date("confirmed_at"), lastStep: row["last_step"], recoveryCodesLeft: row["left"])
        }
    }

    public func beginEnrolment(userID: Int64, sealedSecret: Data, at now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO totp_authenticators (user_id, secret, created_at, confirmed_at, last_step) VALUES (?, ?, ?, NULL, NULL)
                ON CONFLICT(user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = NULL
                WHERE totp_authenticators.confirmed_at IS NULL
                """, arguments: [userID, sealedSecret, now.unix])
            return db.changesCount == 1
        }
    }

    public func confirmAuthenticator(userID: Int64, step: Int64, recoveryHashes: [String], at now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE totp_authenticators SET confirmed_at = ?, last_step = ? WHERE user_id = ? AND confirmed_at IS NULL
                """, arguments: [now.unix, step, userID])
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: "DELETE FROM recovery_codes WHERE user_id = ?", arguments: [userID])
            for hash in recoveryHashes {
                try db.execute(sql: "INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)", arguments: [userID, hash])
            }
            return true
        }
    }

    public func useStep(userID: Int64, step: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE totp_authenticators SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL
                    AND (last_step IS NULL OR last_step < ?)
                """, arguments: [step, userID, step])
            return db.changesCount == 1
        }
    }

    public func useRecoveryCode(userID: Int64, hash: String, at now: Date) async throws -> Bool {
        guard isStorable(hash) else { return false }
        return try await pool.write { db in
            try db.execute(sql: "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
                           arguments: [now.unix, userID, hash])
            return db.changesCount == 1
        }
    }

    public func removeAuthenticator(userID: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM recovery_codes WHERE user_id = ?", arguments: [userID])
            try db.execute(sql: "DELETE FROM totp_authenticators WHERE user_id = ?", arguments: [userID])
            return db.changesCount == 1
        }
    }
}
