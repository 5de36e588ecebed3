import Foundation
import HallpassCore
import HallpassStore
import PostgresNIO

extension PostgresStore: GrantStore {
    public func insertGrant(_ g: DeviceGrant) async throws -> GrantInsertion {
        // The partial unique index on live user codes makes a clash a no-op, not an error.
        let id = try await first(Self.insertion(g)) { try $0.decode(Int64.self) }
        return id.map { .inserted(id: $0) } ?? .userCodeTaken
    }

    /// The INSERT of a new grant, `RETURNING id` (no row when its user code is taken).
    static func insertion(_ g: DeviceGrant) -> PostgresQuery {
        """
        INSERT INTO device_grants (device_code_hash, user_code, client_id, requested_scopes, status,
            created_at, expires_at, "interval", device_ip, user_agent, guess_budget,
            redirect_uri, redirect_uri_sent, state, code_challenge, nonce, code_hash, login_hint, backchannel, binding_message,
            auth_req_id, client_notification_token)
        VALUES (\(g.deviceCodeHash), \(g.userCode.normalized), \(g.clientID), \(g.requestedScopes.description), 'pending',
                \(g.createdAt.unix), \(g.expiresAt.unix), \(g.interval), \(g.deviceIP), \(g.userAgent), \(g.guessBudget),
                \(g.authorization?.redirectURI), \(g.authorization?.redirectURISent), \(g.authorization?.state),
                \(g.authorization?.codeChallenge), \(g.authorization?.nonce), \(g.authorizationCodeHash), \(g.loginHint),
                \(g.backchannel), \(g.bindingMessage), \(g.notification?.authRequestID), \(g.notification?.clientToken))
        ON CONFLICT DO NOTHING RETURNING id
        """
    }

    /// Advisory-lock namespaces for the CIBA flood limits (the key is the name's `hashtext`; a
    /// collision only makes two names wait for each other).
    static let backchannelUserLock: Int32 = 0x4349_4255   // "CIBU"
    static let backchannelClientLock: Int32 = 0x4349_4243 // "CIBC"

    static let grantColumns = """
        id, device_code_hash, user_code, client_id, requested_scopes, granted_scopes, status, created_at, expires_at,
        "interval", user_id, decided_at, redeemed_at, device_ip, user_agent, guess_budget,
        redirect_uri, redirect_uri_sent, state, code_challenge, nonce, code_hash, login_hint, amr, acr, auth_time,
        backchannel, binding_message, auth_req_id, client_notification_token
        """

    static func grant(from row: PostgresRow) throws -> DeviceGrant {
        let r = row.makeRandomAccess()
        let id = try r["id"].decode(Int64.self)
        guard let userCode = try? UserCode(parsing: r["user_code"].decode(String.self)),
              let status = DeviceGrant.Status(rawValue: try r["status"].decode(String.self))
        else { throw StoreError.corrupt("device grant \(id)") }
        var grant = DeviceGrant(
            deviceCodeHash: try r["device_code_hash"].decode(String.self), userCode: userCode,
            clientID: try r["client_id"].decode(String.self),
            requestedScopes: ScopeSet(words: try r["requested_scopes"].decode(String.self)),
            createdAt: Date(unix: try r["created_at"].decode(Double.self)), lifetime: 0,
            interval: try r["interval"].decode(Int.self), deviceIP: try r["device_ip"].decode(String.self),
            userAgent: try r["user_agent"].decode(String.self), guessBudget: try r["guess_budget"].decode(Int.self))
        grant.id = id
        grant.expiresAt = Date(unix: try r["expires_at"].decode(Double.self))
        grant.status = status
        grant.grantedScopes = try r["granted_scopes"].decode(String?.self).map { ScopeSet(words: $0) }
        grant.userID = try r["user_id"].decode(Int64?.self)
        grant.decidedAt = try r["decided_at"].decode(Double?.self).map(Date.init(unix:))
        grant.redeemedAt = try r["redeemed_at"].decode(Double?.self).map(Date.init(unix:))
        if let redirectURI = try r["redirect_uri"].decode(String?.self), let challenge = try r["code_challenge"].decode(String?.self) {
            grant.authorization = AuthorizationRequest(
                redirectURI: redirectURI, redirectURISent: try r["redirect_uri_sent"].decode(Bool?.self) ?? false,
                state: try r["state"].decode(String?.self), codeChallenge: challenge, nonce: try r["nonce"].decode(String?.self))
            grant.authorizationCodeHash = try r["code_hash"].decode(String?.self)
        }
        grant.loginHint = try r["login_hint"].decode(String?.self)
        if let authTime = try r["auth_time"].decode(Double?.self) {
            grant.authentication = AuthenticationContext(methods: AuthenticationContext.methods(stored: try r["amr"].decode(String?.self)),
                                                         time: Date(unix: authTime), acr: try r["acr"].decode(String?.self))
        }
        grant.backchannel = try r["backchannel"].decode(Bool.self)
        grant.bindingMessage = try r["binding_message"].decode(String?.self)
        if let authRequestID = try r["auth_req_id"].decode(String?.self), let token = try r["client_notification_token"].decode(String?.self) {
            grant.notification = BackchannelNotification(authRequestID: authRequestID, clientToken: token)
        }
        return grant
    }

    public func grant(deviceCodeHash: String) async throws -> DeviceGrant? {
        guard isStorable(deviceCodeHash) else { return nil }
        // Read to the end (one row at most: the hash is unique) so the pool gets its connection back.
        var found: DeviceGrant?
        for try await grant in try await client.execute(GrantByDeviceCode(deviceCodeHash: deviceCodeHash), logger: logger) {
            found = grant
        }
        return found
    }

    public func grant(codeHash: String) async throws -> DeviceGrant? {
        guard isStorable(codeHash) else { return nil }
        return try await first("SELECT \(unescaped: Self.grantColumns) FROM device_grants WHERE code_hash = \(codeHash)", Self.grant(from:))
    }

    public func revokeTokens(grantID: Int64, at now: Date) async throws {
        try await transaction { connection in
            var families: [String] = []
            for try await id in try await connection.query("SELECT id FROM token_families WHERE grant_id = \(grantID)",
                                                           logger: logger).decode(String.self) { families.append(id) }
            for family in families { try await Self.revokeFamily(family, at: now, on: connection, logger: logger) }
        }
    }

    public func pendingGrant(userCode: UserCode) async throws -> DeviceGrant? {
        try await first("""
            SELECT \(unescaped: Self.grantColumns) FROM device_grants WHERE user_code = \(userCode.normalized) AND status = 'pending'
            """, Self.grant(from:))
    }

    /// A decision is durable when this returns (PostgreSQL commits with `synchronous_commit` on).
    public func recordDecision(_ grant: DeviceGrant, at now: Date) async throws -> Bool {
        guard let id = grant.id, grant.status == .approved || grant.status == .denied else { return false }
        return try await count("""
            UPDATE device_grants SET status = \(grant.status.rawValue), granted_scopes = \(grant.grantedScopes?.description),
                user_id = \(grant.userID), decided_at = \(grant.decidedAt?.unix), expires_at = \(grant.expiresAt.unix),
                decided_via = \(grant.decidedVia), amr = \(grant.authentication?.storedMethods), acr = \(grant.authentication?.acr),
                auth_time = \(grant.authentication?.time.unix)
            WHERE id = \(id) AND status = 'pending' AND expires_at > \(now.unix) RETURNING 1
            """) == 1
    }

    public func pendingBackchannelGrants(loginHint: String, at now: Date) async throws -> [DeviceGrant] {
        guard isStorable(loginHint) else { return [] }
        return try await all("""
            SELECT \(unescaped: Self.grantColumns) FROM device_grants
            WHERE login_hint = \(loginHint) AND status = 'pending' AND backchannel AND expires_at > \(now.unix) ORDER BY created_at, id
            """, Self.grant(from:))
    }

    /// Every replica takes the user's lock before the client's, so two requests can only wait
    /// for each other, never deadlock; the locks end with the transaction.
    public func insertBackchannelRequest(_ grant: DeviceGrant, perUser: Int, perClient: Int, at now: Date) async throws -> GrantInsertion {
        guard let loginHint = grant.loginHint, isStorable(loginHint), isStorable(grant.clientID) else { return .tooManyForUser }
        let logger = logger
        return try await transaction { connection in
            try await Self.count("""
                SELECT pg_advisory_xact_lock(\(Self.backchannelUserLock), hashtext(\(loginHint))),
                       pg_advisory_xact_lock(\(Self.backchannelClientLock), hashtext(\(grant.clientID)))
                """, on: connection, logger: logger)
            var counts: (Int64, Int64) = (0, 0)
            for try await row in try await connection.query("""
                SELECT (SELECT count(*) FROM device_grants WHERE login_hint = \(loginHint) AND status = 'pending' AND backchannel
                            AND expires_at > \(now.unix)),
                       (SELECT count(*) FROM device_grants WHERE client_id = \(grant.clientID) AND status = 'pending' AND backchannel
                            AND expires_at > \(now.unix))
                """, logger: logger) { counts = try row.decode((Int64, Int64).self) }
            guard counts.0 < perUser else { return .tooManyForUser }
            guard counts.1 < perClient else { return .tooManyForClient }
            var id: Int64?
            for try await row in try await connection.query(Self.insertion(grant), logger: logger) { id = try row.decode(Int64.self) }
            return id.map { .inserted(id: $0) } ?? .userCodeTaken
        }
    }

    /// One conditional UPDATE: a row another replica expired first is not returned here.
    public func expireNotifiedBackchannel(at now: Date) async throws -> [DeviceGrant] {
        try await all("""
            UPDATE device_grants SET status = 'expired'
            WHERE status = 'pending' AND backchannel AND client_notification_token IS NOT NULL AND expires_at <= \(now.unix)
            RETURNING \(unescaped: Self.grantColumns)
            """, Self.grant(from:))
    }

    public func setInterval(grantID: Int64, interval: Int) async throws {
        try await count("UPDATE device_grants SET \"interval\" = GREATEST(\"interval\", \(interval)) WHERE id = \(grantID)")
    }

    public func chargeWrongGuess(nearCodes userCodes: [String], at now: Date) async throws -> Int {
        guard !userCodes.isEmpty else { return 0 }
        return try await transaction { connection in
            let charged = try await Self.count("""
                UPDATE device_grants SET guess_budget = guess_budget - 1
                WHERE status = 'pending' AND user_code = ANY(\(userCodes)) AND expires_at > \(now.unix) RETURNING 1
                """, on: connection, logger: logger)
            guard charged > 0 else { return 0 }
            return try await Self.count("""
                UPDATE device_grants SET status = 'expired' WHERE status = 'pending' AND guess_budget <= 0 RETURNING 1
                """, on: connection, logger: logger)
        }
    }

    /// One transaction: the conditional update consumes the approved grant (only one of any
    /// number of racing replicas sees a row), the account is re-checked, the tokens written.
    /// `token_families.grant_id` is unique: a second family for one grant cannot exist even if
    /// the first guard were bypassed.
    public func redeem(grantID: Int64, tokens: IssuedTokens, at now: Date) async throws -> RedemptionResult {
        do {
            return try await transaction { connection in
                let consumed = try await Self.count("""
                    UPDATE device_grants SET status = 'redeemed', redeemed_at = \(now.unix)
                    WHERE id = \(grantID) AND status = 'approved' AND redeemed_at IS NULL AND expires_at > \(now.unix)
                    RETURNING 1
                    """, on: connection, logger: logger)
                guard consumed == 1 else { return .notRedeemable }
                var disabled = true
                for try await value in try await connection.query("""
                    SELECT disabled FROM users WHERE id = \(tokens.family.userID)
                    """, logger: logger).decode(Bool.self) { disabled = value }
                guard !disabled else { throw AccountDisabled() }    // rolls the consumption back
                try await Self.insertFamily(tokens.family, grantID: grantID, on: connection, logger: logger)
                try await Self.insertTokens(tokens, parent: nil, on: connection, logger: logger)
                return .redeemed
            }
        } catch is AccountDisabled {
            return .accountDisabled
        } catch where isUniqueViolation(error) {
            return .notRedeemable
        }
    }

    struct AccountDisabled: Error {}

    /// Expires what is due and deletes long-dead rows; each statement is idempotent, so every
    /// replica may run it.
    public func sweep(at now: Date) async throws -> Int {
        try await transaction { connection in
            let horizon = now.unix - 24 * 3600
            var touched = try await Self.count("""
                UPDATE device_grants SET status = 'expired'
                WHERE status IN ('pending', 'approved') AND expires_at <= \(now.unix)
                  AND NOT (status = 'pending' AND backchannel AND client_notification_token IS NOT NULL) RETURNING 1
                """, on: connection, logger: logger)
            touched += try await Self.count("DELETE FROM device_grants WHERE expires_at <= \(horizon) RETURNING 1",
                                            on: connection, logger: logger)
            touched += try await Self.count("DELETE FROM consent_sessions WHERE expires_at <= \(now.unix) RETURNING 1",
                                            on: connection, logger: logger)
            touched += try await Self.count("DELETE FROM dpop_proofs WHERE expires_at <= \(now.unix) RETURNING 1",
                                            on: connection, logger: logger)
            // Each budget's events go once its window has passed (a known pair stays 30 days).
            let budgets = FailureBudget.allCases.map(\.rawValue)
            let cutoffs = FailureBudget.allCases.map { now.unix - $0.window }
            touched += try await Self.count("""
                DELETE FROM failed_attempts f USING unnest(\(budgets)::text[], \(cutoffs)::float8[]) AS w(budget, cutoff)
                WHERE f.budget = w.budget AND f.at < w.cutoff RETURNING 1
                """, on: connection, logger: logger)
            touched += try await Self.count("""
                DELETE FROM token_families f WHERE NOT EXISTS (
                    SELECT 1 FROM refresh_tokens r WHERE r.family_id = f.id AND r.expires_at > \(horizon))
                AND NOT EXISTS (SELECT 1 FROM access_tokens a WHERE a.family_id = f.id AND a.expires_at > \(horizon))
                RETURNING 1
                """, on: connection, logger: logger)
            return touched
        }
    }
}
