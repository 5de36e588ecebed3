import Foundation
import GRDB
import HallpassCore
import HallpassStore

extension SQLiteStore: TokenStore {
    /// `grant_id` is unique (as on PostgreSQL): one family per grant, whatever happens above.
    static func insertFamily(_ family: TokenFamily, grantID: Int64?, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO token_families (id, client_id, user_id, scopes, created_at, auth_time, revoked_at, grant_id, dpop_jkt, amr, acr)
            VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)
            """, arguments: [family.id, family.clientID, family.userID, family.scopes.description,
                             family.createdAt.unix, family.authTime.unix, grantID, family.dpopJKT,
                             family.methods.joined(separator: " "), family.acr])
    }

    /// `parent` is the refresh token this one succeeds; `parent_hash` is unique, so a token can
    /// have one successor at most.
    static func insertTokens(_ t: IssuedTokens, parent: String?, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO access_tokens (jti, family_id, client_id, user_id, scopes, issued_at, expires_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [t.accessJTI, t.family.id, t.family.clientID, t.family.userID, t.scopes.description,
                             t.issuedAt.unix, t.accessExpiresAt.unix])
        if let hash = t.refreshHash, let expires = t.refreshExpiresAt {
            try db.cachedStatement(sql: """
                INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scopes, issued_at, expires_at, parent_hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [hash, t.family.id, t.family.clientID, t.family.userID, t.scopes.description,
                                 t.issuedAt.unix, expires.unix, parent])
        }
    }

    /// A `HotReader` point read: the first step of every refresh.
    public func refreshToken(hash: String) async throws -> RefreshTokenRecord? {
        guard isStorable(hash) else { return nil }
        return try hot.withConnection { connection in
            try connection.queryOne("""
                SELECT token_hash, family_id, client_id, user_id, scopes, issued_at, expires_at, used_at, revoked_at
                FROM refresh_tokens WHERE token_hash = ?
                """, hash) { row in
                RefreshTokenRecord(
                    hash: row.text(0) ?? hash, familyID: row.text(1) ?? "", clientID: row.text(2) ?? "", userID: row.int(3) ?? 0,
                    scopes: ScopeSet(words: row.text(4)), issuedAt: row.double(5).map(Date.init(unix:)) ?? .distantPast,
                    expiresAt: row.double(6).map(Date.init(unix:)) ?? .distantPast, usedAt: row.double(7).map(Date.init(unix:)),
                    revokedAt: row.double(8).map(Date.init(unix:)))
            }
        }
    }

    /// One rotation: the token presented and what succeeds it.
    struct Rotation: Sendable {
        var oldHash: String
        var successor: IssuedTokens
        var now: Date
    }

    /// Group-committed (`rotations`): concurrent refreshes share one transaction and one fsync,
    /// each in a savepoint of its own, and each is answered only after that commit, so every
    /// rotation is durable before its tokens are sent. In one batch they run in arrival order,
    /// exactly as one after another: a token presented twice is rotated by the first and found
    /// reused by the second.
    public func rotate(oldHash: String, successor: IssuedTokens, at now: Date) async throws -> RotationResult {
        try await rotations.submit(Rotation(oldHash: oldHash, successor: successor, now: now))
    }

    static func rotate(_ rotation: Rotation, in db: Database) throws -> RotationResult {
        var result = RotationResult.invalid
        do {
            try db.inSavepoint {
                result = try rotateInSavepoint(rotation, in: db)
                return .commit
            }
        } catch where isUniqueViolation(error) {
            return .invalid    // a second successor for one token: the unique parent_hash refused it
        }
        return result
    }

    private static func rotateInSavepoint(_ rotation: Rotation, in db: Database) throws -> RotationResult {
        let (oldHash, successor, now) = (rotation.oldHash, rotation.successor, rotation.now)
        guard let row = try Row.fetchOne(db.cachedStatement(sql: """
            SELECT r.used_at, r.revoked_at, r.expires_at, r.client_id, f.revoked_at AS family_revoked,
                   f.id AS family_id, u.disabled
            FROM refresh_tokens r JOIN token_families f ON f.id = r.family_id
            LEFT JOIN users u ON u.id = r.user_id
            WHERE r.token_hash = ?
            """), arguments: [oldHash])
        else { return .invalid }
        let familyID: String = row["family_id"]
        guard familyID == successor.family.id, (row["client_id"] as String) == successor.family.clientID else {
            return .invalid
        }
        if (row["used_at"] as Double?) != nil {
            // A rotated-out token came back: someone holds a copy. Revoke the family.
            try SQLiteStore.revokeFamily(familyID, at: now, in: db)
            return .reused
        }
        if (row["revoked_at"] as Double?) != nil || (row["family_revoked"] as Double?) != nil
            || (row["expires_at"] as Double) <= now.unix {
            return .invalid
        }
        if (row["disabled"] as Bool?) != false { return .accountDisabled }
        try db.cachedStatement(sql: "UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL")
            .execute(arguments: [now.unix, oldHash])
        guard db.changesCount == 1 else { return .invalid }
        try SQLiteStore.insertTokens(successor, parent: oldHash, in: db)
        return .rotated
    }

    public func revokeFamily(_ familyID: String, at now: Date) async throws {
        try await pool.write { db in try SQLiteStore.revokeFamily(familyID, at: now, in: db) }
    }

    static func revokeFamily(_ familyID: String, at now: Date, in db: Database) throws {
        let args: StatementArguments = [now.unix, familyID]
        try db.execute(sql: "UPDATE token_families SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", arguments: args)
        try db.execute(sql: "UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE family_id = ?", arguments: args)
        try db.execute(sql: "UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE family_id = ?", arguments: args)
    }

    /// A `HotReader` point read: a resource server introspects, and userinfo looks up, on every
    /// API call.
    public func accessToken(jti: String) async throws -> AccessTokenRecord? {
        guard isStorable(jti) else { return nil }
        return try hot.withConnection { connection in
            try connection.queryOne("""
                SELECT a.jti, a.family_id, a.client_id, a.user_id, a.scopes, a.issued_at, a.expires_at,
                       COALESCE(a.revoked_at, f.revoked_at)
                FROM access_tokens a JOIN token_families f ON f.id = a.family_id WHERE a.jti = ?
                """, jti) { row in
                AccessTokenRecord(
                    jti: row.text(0) ?? jti, familyID: row.text(1) ?? "", clientID: row.text(2) ?? "", userID: row.int(3) ?? 0,
                    scopes: ScopeSet(words: row.text(4)), issuedAt: row.double(5).map(Date.init(unix:)) ?? .distantPast,
                    expiresAt: row.double(6).map(Date.init(unix:)) ?? .distantPast,
                    revokedAt: row.double(7).map(Date.init(unix:)))
            }
        }
    }

    public func revokeAccessToken(jti: String, at now: Date) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE jti = ?",
                           arguments: [now.unix, jti])
        }
    }

    public func bindFamily(id: String, dpopJKT: String) async throws -> Bool {
        guard isStorable(id), isStorable(dpopJKT) else { return false }
        return try await pool.write { db in
            try db.execute(sql: "UPDATE token_families SET dpop_jkt = ? WHERE id = ? AND dpop_jkt IS NULL", arguments: [dpopJKT, id])
            return db.changesCount == 1
        }
    }

    /// A `HotReader` point read (every refresh reads its family).
    public func family(id: String) async throws -> TokenFamily? {
        guard isStorable(id) else { return nil }
        return try hot.withConnection { connection in
            try connection.queryOne("""
                SELECT id, client_id, user_id, scopes, created_at, revoked_at, auth_time, dpop_jkt, amr, acr
                FROM token_families WHERE id = ?
                """, id) { row in
                var family = TokenFamily(id: row.text(0) ?? id, clientID: row.text(1) ?? "", userID: row.int(2) ?? 0,
                                         scopes: ScopeSet(words: row.text(3)),
                                         createdAt: row.double(4).map(Date.init(unix:)) ?? .distantPast,
                                         revokedAt: row.double(5).map(Date.init(unix:)),
                                         authTime: row.double(6).map(Date.init(unix:)) ?? .distantPast,
                                         dpopJKT: row.text(7))
                family.methods = AuthenticationContext.methods(stored: row.text(8))
                family.acr = row.text(9)
                return family
            }
        }
    }
}
