import Foundation
import HallpassCore
import HallpassStore
import PostgresNIO

extension PostgresStore: TokenStore {
    static func insertFamily(_ family: TokenFamily, grantID: Int64?, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            INSERT INTO token_families (id, client_id, user_id, scopes, created_at, auth_time, revoked_at, grant_id, dpop_jkt, amr, acr)
            VALUES (\(family.id), \(family.clientID), \(family.userID), \(family.scopes.description),
                    \(family.createdAt.unix), \(family.authTime.unix), NULL, \(grantID), \(family.dpopJKT),
                    \(family.methods.joined(separator: " ")), \(family.acr))
            """, logger: logger)
    }

    /// `parent` is the refresh token this one succeeds; `parent_hash` is unique, so a token can
    /// have one successor at most, whatever happens above this line.
    static func insertTokens(_ t: IssuedTokens, parent: String?, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            INSERT INTO access_tokens (jti, family_id, client_id, user_id, scopes, issued_at, expires_at)
            VALUES (\(t.accessJTI), \(t.family.id), \(t.family.clientID), \(t.family.userID), \(t.scopes.description),
                    \(t.issuedAt.unix), \(t.accessExpiresAt.unix))
            """, logger: logger)
        if let hash = t.refreshHash, let expires = t.refreshExpiresAt {
            try await connection.query("""
                INSERT INTO refresh_tokens (token_hash, family_id, client_id, user_id, scopes, issued_at, expires_at, parent_hash)
                VALUES (\(hash), \(t.family.id), \(t.family.clientID), \(t.family.userID), \(t.scopes.description),
                        \(t.issuedAt.unix), \(expires.unix), \(parent))
                """, logger: logger)
        }
    }

    public func refreshToken(hash: String) async throws -> RefreshTokenRecord? {
        guard isStorable(hash) else { return nil }
        return try await first("""
            SELECT token_hash, family_id, client_id, user_id, scopes, issued_at, expires_at, used_at, revoked_at
            FROM refresh_tokens WHERE token_hash = \(hash)
            """) { row in
            let (hash, family, client, user, scopes, issued, expires, used, revoked) =
                try row.decode((String, String, String, Int64, String, Double, Double, Double?, Double?).self)
            return RefreshTokenRecord(hash: hash, familyID: family, clientID: client, userID: user, scopes: ScopeSet(words: scopes),
                                      issuedAt: Date(unix: issued), expiresAt: Date(unix: expires),
                                      usedAt: used.map(Date.init(unix:)), revokedAt: revoked.map(Date.init(unix:)))
        }
    }

    /// Rotation with the old token's row locked (`FOR UPDATE`): racing rotations on any replica
    /// wait for the first to commit, then see it used, and revoke the family (reuse detection).
    public func rotate(oldHash: String, successor: IssuedTokens, at now: Date) async throws -> RotationResult {
        do {
            return try await transaction { connection in
                var found: (Double?, Double?, Double, String, Double?, String, Bool?)?
                for try await row in try await connection.query("""
                    SELECT r.used_at, r.revoked_at, r.expires_at, r.client_id, f.revoked_at, f.id, u.disabled
                    FROM refresh_tokens r JOIN token_families f ON f.id = r.family_id
                    LEFT JOIN users u ON u.id = r.user_id
                    WHERE r.token_hash = \(oldHash) FOR UPDATE OF r
                    """, logger: logger).decode((Double?, Double?, Double, String, Double?, String, Bool?).self) {
                    found = row
                }
                guard let (used, revoked, expires, clientID, familyRevoked, familyID, disabled) = found,
                      familyID == successor.family.id, clientID == successor.family.clientID
                else { return .invalid }
                if used != nil {
                    // A rotated-out token came back: someone holds a copy. Revoke the family.
                    try await Self.revokeFamily(familyID, at: now, on: connection, logger: logger)
                    return .reused
                }
                if revoked != nil || familyRevoked != nil || expires <= now.unix { return .invalid }
                if disabled != false { return .accountDisabled }
                let marked = try await Self.count("""
                    UPDATE refresh_tokens SET used_at = \(now.unix) WHERE token_hash = \(oldHash) AND used_at IS NULL RETURNING 1
                    """, on: connection, logger: logger)
                guard marked == 1 else { return .invalid }
                try await Self.insertTokens(successor, parent: oldHash, on: connection, logger: logger)
                return .rotated
            }
        } catch where isUniqueViolation(error) {
            return .invalid
        }
    }

    public func revokeFamily(_ familyID: String, at now: Date) async throws {
        try await transaction { connection in try await Self.revokeFamily(familyID, at: now, on: connection, logger: logger) }
    }

    static func revokeFamily(_ familyID: String, at now: Date, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("UPDATE token_families SET revoked_at = COALESCE(revoked_at, \(now.unix)) WHERE id = \(familyID)",
                                   logger: logger)
        try await connection.query("UPDATE refresh_tokens SET revoked_at = COALESCE(revoked_at, \(now.unix)) WHERE family_id = \(familyID)",
                                   logger: logger)
        try await connection.query("UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, \(now.unix)) WHERE family_id = \(familyID)",
                                   logger: logger)
    }

    public func accessToken(jti: String) async throws -> AccessTokenRecord? {
        guard isStorable(jti) else { return nil }
        return try await first("""
            SELECT a.jti, a.family_id, a.client_id, a.user_id, a.scopes, a.issued_at, a.expires_at,
                   COALESCE(a.revoked_at, f.revoked_at)
            FROM access_tokens a JOIN token_families f ON f.id = a.family_id WHERE a.jti = \(jti)
            """) { row in
            let (jti, family, client, user, scopes, issued, expires, revoked) =
                try row.decode((String, String, String, Int64, String, Double, Double, Double?).self)
            return AccessTokenRecord(jti: jti, familyID: family, clientID: client, userID: user, scopes: ScopeSet(words: scopes),
                                     issuedAt: Date(unix: issued), expiresAt: Date(unix: expires), revokedAt: revoked.map(Date.init(unix:)))
        }
    }

    public func revokeAccessToken(jti: String, at now: Date) async throws {
        try await count("UPDATE access_tokens SET revoked_at = COALESCE(revoked_at, \(now.unix)) WHERE jti = \(jti)")
    }

    public func bindFamily(id: String, dpopJKT: String) async throws -> Bool {
        guard isStorable(id), isStorable(dpopJKT) else { return false }
        return try await count("UPDATE token_families SET dpop_jkt = \(dpopJKT) WHERE id = \(id) AND dpop_jkt IS NULL RETURNING 1") == 1
    }

    public func family(id: String) async throws -> TokenFamily? {
        guard isStorable(id) else { return nil }
        return try await first("""
            SELECT id, client_id, user_id, scopes, created_at, revoked_at, auth_time, dpop_jkt, amr, acr FROM token_families WHERE id = \(id)
            """) { row in
            let (id, client, user, scopes, created, revoked, auth, jkt, amr, acr) =
                try row.decode((String, String, Int64, String, Double, Double?, Double, String?, String?, String?).self)
            var family = TokenFamily(id: id, clientID: client, userID: user, scopes: ScopeSet(words: scopes), createdAt: Date(unix: created),
                                     revokedAt: revoked.map(Date.init(unix:)), authTime: Date(unix: auth), dpopJKT: jkt)
            family.methods = AuthenticationContext.methods(stored: amr)
            family.acr = acr
            return family
        }
    }
}
