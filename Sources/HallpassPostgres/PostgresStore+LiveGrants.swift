import Foundation
import HallpassCore
import HallpassStore
import PostgresNIO

extension PostgresStore: LiveGrantStore {
    public func liveGrants(userID: Int64?, clientID: String?, at now: Date) async throws -> [LiveGrant] {
        if let clientID, !isStorable(clientID) { return [] }
        return try await all("""
            SELECT * FROM (
                SELECT f.id, f.client_id, c.name AS client_name, f.user_id, u.name AS user_name, f.scopes, f.auth_time, f.created_at,
                       g.device_ip, g.user_agent, g.decided_via, g.decided_at,
                       (SELECT MAX(issued_at) FROM refresh_tokens r WHERE r.family_id = f.id AND r.parent_hash IS NOT NULL) AS last_refresh,
                       (SELECT MAX(expires_at) FROM refresh_tokens r
                         WHERE r.family_id = f.id AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > \(now.unix)) AS refresh_until,
                       (SELECT MAX(expires_at) FROM access_tokens a
                         WHERE a.family_id = f.id AND a.revoked_at IS NULL AND a.expires_at > \(now.unix)) AS access_until
                FROM token_families f
                LEFT JOIN clients c ON c.id = f.client_id
                LEFT JOIN users u ON u.id = f.user_id
                LEFT JOIN device_grants g ON g.id = f.grant_id
                WHERE f.revoked_at IS NULL AND (\(userID)::bigint IS NULL OR f.user_id = \(userID))
                  AND (\(clientID)::text IS NULL OR f.client_id = \(clientID))
            ) live WHERE refresh_until IS NOT NULL OR access_until IS NOT NULL
            ORDER BY created_at DESC, id
            """) { row in
            let (id, client, clientName, user, userName, scopes, auth, _, ip, agent, via, decided, lastRefresh, refreshUntil, accessUntil) =
                try row.decode((String, String, String?, Int64, String?, String, Double, Double, String?, String?, String?, Double?, Double?,
                                Double?, Double?).self)
            var grant = LiveGrant(familyID: id, clientID: client, clientName: clientName, userID: user, userName: userName,
                             scopes: ScopeSet(words: scopes), approvedAt: Date(unix: decided ?? auth), deviceIP: ip, userAgent: agent,
                             lastRefresh: lastRefresh.map(Date.init(unix:)), liveUntil: Date(unix: max(refreshUntil ?? 0, accessUntil ?? 0)))
            grant.approvedVia = via
            return grant
        }
    }
}
