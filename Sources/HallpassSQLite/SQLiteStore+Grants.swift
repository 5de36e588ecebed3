import Foundation
import GRDB
import HallpassCore
import HallpassStore

extension SQLiteStore: GrantStore {
    public func insertGrant(_ grant: DeviceGrant) async throws -> GrantInsertion {
        try await grantInserts.submit(grant)
    }

    static func insert(_ g: DeviceGrant, in db: Database) throws -> GrantInsertion {
        try db.cachedStatement(sql: """
            INSERT INTO device_grants (device_code_hash, user_code, client_id, requested_scopes, status,
                created_at, expires_at, interval, device_ip, user_agent, guess_budget,
                redirect_uri, redirect_uri_sent, state, code_challenge, nonce, code_hash, login_hint, backchannel, binding_message,
                auth_req_id, client_notification_token)
            VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT DO NOTHING
            """).execute(arguments: [g.deviceCodeHash, g.userCode.normalized, g.clientID, g.requestedScopes.description,
                             g.createdAt.unix, g.expiresAt.unix, g.interval, g.deviceIP, g.userAgent, g.guessBudget,
                             g.authorization?.redirectURI, g.authorization?.redirectURISent, g.authorization?.state,
                             g.authorization?.codeChallenge, g.authorization?.nonce, g.authorizationCodeHash, g.loginHint,
                             g.backchannel, g.bindingMessage, g.notification?.authRequestID, g.notification?.clientToken])
        guard db.changesCount == 1 else { return .userCodeTaken }
        return .inserted(id: db.lastInsertedRowID)
    }

    /// The polling hot path: a point read through `HotReader`.
    public func grant(deviceCodeHash: String) async throws -> DeviceGrant? {
        guard isStorable(deviceCodeHash) else { return nil }
        return try hot.withConnection { connection in
            try connection.queryOne(Self.grantQuery + " device_code_hash = ?", deviceCodeHash, row: Self.grant(from:))
        }
    }

    /// The token endpoint's lookup of a browser sign-in by its code.
    public func grant(codeHash: String) async throws -> DeviceGrant? {
        guard isStorable(codeHash) else { return nil }
        return try hot.withConnection { connection in
            try connection.queryOne(Self.grantQuery + " code_hash = ?", codeHash, row: Self.grant(from:))
        }
    }

    public func revokeTokens(grantID: Int64, at now: Date) async throws {
        try await pool.write { db in
            for family in try String.fetchAll(db, sql: "SELECT id FROM token_families WHERE grant_id = ?", arguments: [grantID]) {
                try SQLiteStore.revokeFamily(family, at: now, in: db)
            }
        }
    }

    /// The consent screens' lookup, also a `HotReader` point read (every approval starts here).
    public func pendingGrant(userCode: UserCode) async throws -> DeviceGrant? {
        try hot.withConnection { connection in
            try connection.queryOne(Self.grantQuery + " user_code = ? AND status = 'pending'", userCode.normalized,
                                    row: Self.grant(from:))
        }
    }

    static let grantQuery = """
        SELECT id, device_code_hash, user_code, client_id, requested_scopes, granted_scopes, status,
               created_at, expires_at, interval, user_id, decided_at, redeemed_at, device_ip, user_agent, guess_budget,
               redirect_uri, redirect_uri_sent, state, code_challenge, nonce, code_hash, login_hint, amr, acr, auth_time,
               backchannel, binding_message, auth_req_id, client_notification_token
        FROM device_grants WHERE
        """

    /// A row of `grantQuery`.
    static func grant(from row: HotReader.Row) throws -> DeviceGrant {
        guard let code = row.text(2), let userCode = try? UserCode(parsing: code),
              let status = row.text(6).flatMap(DeviceGrant.Status.init(rawValue:)),
              let created = row.double(7), let expires = row.double(8)
        else { throw StoreError.corrupt("device grant \(row.int(0) ?? -1)") }
        var grant = DeviceGrant(
            deviceCodeHash: row.text(1) ?? "", userCode: userCode, clientID: row.text(3) ?? "",
            requestedScopes: ScopeSet(words: row.text(4)), createdAt: Date(unix: created), lifetime: 0,
            interval: Int(row.int(9) ?? 5), deviceIP: row.text(13) ?? "", userAgent: row.text(14) ?? "",
            guessBudget: Int(row.int(15) ?? 0))
        grant.id = row.int(0)
        grant.expiresAt = Date(unix: expires)
        grant.status = status
        grant.grantedScopes = row.text(5).map { ScopeSet(words: $0) }
        grant.userID = row.int(10)
        grant.decidedAt = row.double(11).map(Date.init(unix:))
        grant.redeemedAt = row.double(12).map(Date.init(unix:))
        if let redirectURI = row.text(16), let challenge = row.text(19) {
            grant.authorization = AuthorizationRequest(redirectURI: redirectURI, redirectURISent: (row.int(17) ?? 0) != 0,
                                                       state: row.text(18), codeChallenge: challenge, nonce: row.text(20))
            grant.authorizationCodeHash = row.text(21)
        }
        grant.loginHint = row.text(22)
        if let authTime = row.double(25) {
            grant.authentication = AuthenticationContext(methods: AuthenticationContext.methods(stored: row.text(23)),
                                                         time: Date(unix: authTime), acr: row.text(24))
        }
        grant.backchannel = (row.int(26) ?? 0) != 0
        grant.bindingMessage = row.text(27)
        if let authRequestID = row.text(28), let token = row.text(29) {
            grant.notification = BackchannelNotification(authRequestID: authRequestID, clientToken: token)
        }
        return grant
    }

    /// Decisions are group-committed like grant inserts: each caller is answered only after the
    /// transaction holding its decision is durable, and many approvals share one fsync.
    public func recordDecision(_ grant: DeviceGrant, at now: Date) async throws -> Bool {
        guard grant.id != nil, grant.status == .approved || grant.status == .denied else { return false }
        return try await decisions.submit(Decision(grant: grant, at: now))
    }

    struct Decision: Sendable {
        var grant: DeviceGrant
        var at: Date
    }

    /// Records one decision if its grant is still pending and unexpired; true when it did.
    static func record(_ decision: Decision, in db: Database) throws -> Bool {
        let grant = decision.grant
        try db.cachedStatement(sql: """
            UPDATE device_grants SET status = ?, granted_scopes = ?, user_id = ?, decided_at = ?, expires_at = ?, decided_via = ?,
                amr = ?, acr = ?, auth_time = ?
            WHERE id = ? AND status = 'pending' AND expires_at > ?
            """).execute(arguments: [grant.status.rawValue, grant.grantedScopes?.description, grant.userID,
                                     grant.decidedAt?.unix, grant.expiresAt.unix, grant.decidedVia,
                                     grant.authentication?.storedMethods, grant.authentication?.acr, grant.authentication?.time.unix,
                                     grant.id, decision.at.unix])
        return db.changesCount == 1
    }

    public func pendingBackchannelGrants(loginHint: String, at now: Date) async throws -> [DeviceGrant] {
        guard isStorable(loginHint) else { return [] }
        let ids = try await pool.read { db in
            try Int64.fetchAll(db, sql: """
                SELECT id FROM device_grants WHERE login_hint = ? AND status = 'pending' AND backchannel = 1 AND expires_at > ?
                ORDER BY created_at, id
                """, arguments: [loginHint, now.unix])
        }
        // Each row through the one reader of grant rows (the id travels as text; INTEGER affinity compares it as a number).
        return try ids.compactMap { id in
            try hot.withConnection { connection in try connection.queryOne(Self.grantQuery + " id = ?", String(id), row: Self.grant(from:)) }
        }
    }

    public func insertBackchannelRequest(_ grant: DeviceGrant, perUser: Int, perClient: Int, at now: Date) async throws -> GrantInsertion {
        guard let loginHint = grant.loginHint, isStorable(loginHint), isStorable(grant.clientID) else { return .tooManyForUser }
        // One write transaction: SQLite's single writer makes the counts and the insert one step.
        return try await pool.write { db in
            let user = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM device_grants WHERE login_hint = ? AND status = 'pending' AND backchannel = 1 AND expires_at > ?
                """, arguments: [loginHint, now.unix]) ?? 0
            guard user < perUser else { return .tooManyForUser }
            let client = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM device_grants WHERE client_id = ? AND status = 'pending' AND backchannel = 1 AND expires_at > ?
                """, arguments: [grant.clientID, now.unix]) ?? 0
            guard client < perClient else { return .tooManyForClient }
            return try Self.insert(grant, in: db)
        }
    }

    public func setInterval(grantID: Int64, interval: Int) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE device_grants SET interval = MAX(interval, ?) WHERE id = ?",
                           arguments: [interval, grantID])
        }
    }

    public func chargeWrongGuess(nearCodes userCodes: [String], at now: Date) async throws -> Int {
        guard !userCodes.isEmpty else { return 0 }
        return try await pool.write { db in
            let placeholders = databaseQuestionMarks(count: userCodes.count)
            var arguments = StatementArguments(userCodes)
            arguments += [now.unix]
            try db.execute(sql: """
                UPDATE device_grants SET guess_budget = guess_budget - 1
                WHERE status = 'pending' AND user_code IN (\(placeholders)) AND expires_at > ?
                """, arguments: arguments)
            guard db.changesCount > 0 else { return 0 }
            try db.execute(sql: "UPDATE device_grants SET status = 'expired' WHERE status = 'pending' AND guess_budget <= 0")
            return db.changesCount
        }
    }

    public func redeem(grantID: Int64, tokens: IssuedTokens, at now: Date) async throws -> RedemptionResult {
        do {
            return try await redeemTransaction(grantID: grantID, tokens: tokens, at: now)
        } catch is AccountDisabled {
            return .accountDisabled
        } catch where isUniqueViolation(error) {
            return .notRedeemable    // a second family for one grant: the unique grant_id refused it
        }
    }

    private func redeemTransaction(grantID: Int64, tokens: IssuedTokens, at now: Date) async throws -> RedemptionResult {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE device_grants SET status = 'redeemed', redeemed_at = ?
                WHERE id = ? AND status = 'approved' AND expires_at > ?
                """, arguments: [now.unix, grantID, now.unix])
            guard db.changesCount == 1 else { return .notRedeemable }
            // ARCHITECTURE.md §3a: the account is re-checked at redemption.
            let disabled = try Bool.fetchOne(db, sql: "SELECT disabled FROM users WHERE id = ?",
                                             arguments: [tokens.family.userID])
            guard disabled == false else { throw AccountDisabled() }  // rolls the consumption back
            try SQLiteStore.insertFamily(tokens.family, grantID: grantID, in: db)
            try SQLiteStore.insertTokens(tokens, parent: nil, in: db)
            return .redeemed
        }
    }

    public func sweep(at now: Date) async throws -> Int {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE device_grants SET status = 'expired'
                WHERE status IN ('pending', 'approved') AND expires_at <= ?
                  AND NOT (status = 'pending' AND backchannel = 1 AND client_notification_token IS NOT NULL)
                """, arguments: [now.unix])
            var touched = db.changesCount
            let horizon = now.unix - 24 * 3600
            try db.execute(sql: "DELETE FROM device_grants WHERE expires_at <= ?", arguments: [horizon])
            touched += db.changesCount
            try db.execute(sql: "DELETE FROM consent_sessions WHERE expires_at <= ?", arguments: [now.unix])
            touched += db.changesCount
            try db.execute(sql: "DELETE FROM dpop_proofs WHERE expires_at <= ?", arguments: [now.unix])
            touched += db.changesCount
            try db.execute(sql: """
                DELETE FROM token_families WHERE id NOT IN (
                    SELECT family_id FROM refresh_tokens WHERE expires_at > ?
                    UNION SELECT family_id FROM access_tokens WHERE expires_at > ?)
                """, arguments: [horizon, horizon])
            touched += db.changesCount
            return touched
        }
    }

    public func expireNotifiedBackchannel(at now: Date) async throws -> [DeviceGrant] {
        // One write transaction (SQLite serialises writers): the ids read are the ids expired.
        let ids = try await pool.write { db in
            let ids = try Int64.fetchAll(db, sql: """
                SELECT id FROM device_grants
                WHERE status = 'pending' AND backchannel = 1 AND client_notification_token IS NOT NULL AND expires_at <= ?
                """, arguments: [now.unix])
            for id in ids { try db.execute(sql: "UPDATE device_grants SET status = 'expired' WHERE id = ?", arguments: [id]) }
            return ids
        }
        return try ids.compactMap { id in
            try hot.withConnection { connection in try connection.queryOne(Self.grantQuery + " id = ?", String(id), row: Self.grant(from:)) }
        }
    }

    /// Thrown inside a write transaction to roll it back when the account is disabled.
    struct AccountDisabled: Error {}

    static func grant(from row: Row) throws -> DeviceGrant {
        guard let userCode = try? UserCode(parsing: row["user_code"] as String),
              let status = DeviceGrant.Status(rawValue: row["status"]),
              let created = row.date("created_at"), let expires = row.date("expires_at")
        else { throw StoreError.corrupt("device grant \(row["id"] as Int64? ?? -1)") }
        var grant = DeviceGrant(
            deviceCodeHash: row["device_code_hash"], userCode: userCode, clientID: row["client_id"],
            requestedScopes: row.scopes("requested_scopes"), createdAt: created, lifetime: 0,
            interval: row["interval"], deviceIP: row["device_ip"], userAgent: row["user_agent"],
            guessBudget: row["guess_budget"])
        grant.id = row["id"]
        grant.expiresAt = expires
        grant.status = status
        grant.grantedScopes = (row["granted_scopes"] as String?).map { _ in row.scopes("granted_scopes") }
        grant.userID = row["user_id"]
        grant.decidedAt = row.date("decided_at")
        grant.redeemedAt = row.date("redeemed_at")
        if let redirectURI = row["redirect_uri"] as String?, let challenge = row["code_challenge"] as String? {
            grant.authorization = AuthorizationRequest(redirectURI: redirectURI, redirectURISent: row["redirect_uri_sent"] ?? false,
                                                       state: row["state"], codeChallenge: challenge, nonce: row["nonce"])
            grant.authorizationCodeHash = row["code_hash"]
        }
        grant.loginHint = row["login_hint"]
        return grant
    }
}
