import Foundation
import GRDB
import HallpassCore
import HallpassStore

extension SQLiteStore: LiveGrantStore {
    public func liveGrants(userID: Int64?, clientID: String?, at now: Date) async throws -> [LiveGrant] {
        if let clientID, !isStorable(clientID) { return [] }
        return try await pool.read { db in
            try Row.fetchAll(db, sql: SQLiteStore.liveGrantsQuery, arguments: [now.unix, now.unix, userID, userID, clientID, clientID])
                .map { row in
                    var grant = LiveGrant(familyID: row["id"], clientID: row["client_id"], clientName: row["client_name"], userID: row["user_id"],
                              userName: row["user_name"], scopes: row.scopes("scopes"),
                              approvedAt: row.date("decided_at") ?? row.date("auth_time") ?? .distantPast, deviceIP: row["device_ip"],
                              userAgent: row["user_agent"], lastRefresh: row.date("last_refresh"),
                              liveUntil: Date(unix: max(row["refresh_until"] ?? 0, row["access_until"] ?? 0)))
                    grant.approvedVia = row["decided_via"]
                    return grant
                }
        }
    }

    /// Families not revoked with a live token; the device as it asked (its grant), the newest
    /// refresh (a refresh token with a parent).
    static let liveGrantsQuery = """
        SELECT * FROM (
            SELECT f.id, f.client_id, c.name AS client_name, f.user_id, u.name AS user_name, f.scopes, f.auth_time, f.created_at,
                   g.device_ip, g.user_agent, g.decided_via, g.decided_at,
                   (SELECT MAX(issued_at) FROM refresh_tokens r WHERE r.family_id = f.id AND r.parent_hash IS NOT NULL) AS last_refresh,
                   (SELECT MAX(expires_at) FROM refresh_tokens r
                     WHERE r.family_id = f.id AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > ?) AS refresh_until,
                   (SELECT MAX(expires_at) FROM access_tokens a
                     WHERE a.family_id = f.id AND a.revoked_at IS NULL AND a.expires_at > ?) AS access_until
            FROM token_families f
            LEFT JOIN clients c ON c.id = f.client_id
            LEFT JOIN users u ON u.id = f.user_id
            LEFT JOIN device_grants g ON g.id = f.grant_id
            WHERE f.revoked_at IS NULL AND (? IS NULL OR f.user_id = ?) AND (? IS NULL OR f.client_id = ?)
        ) WHERE refresh_until IS NOT NULL OR access_until IS NOT NULL
        ORDER BY created_at DESC, id
        """
}
