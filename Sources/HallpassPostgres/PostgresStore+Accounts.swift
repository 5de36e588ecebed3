import Foundation
import HallpassCore
import HallpassStore
import PostgresNIO

extension PostgresStore: ClientStore {
    static let clientColumns = "id, name, secret_hash, scopes, grant_types, code_lifetime, \"interval\", can_introspect, id_token_signed_response_alg, redirect_uris, require_dpop, proximity, device_networks, access_token_lifetime, refresh_token_lifetime, refresh_idle_lifetime, cross_device_scopes, require_totp, ciba_mode, ciba_notification_endpoint"

    static func client(from row: PostgresRow) throws -> OAuthClient {
        let (id, name, secret, scopes, grants, lifetime, interval, introspect, idTokenAlgorithm, redirectURIs, requiresDPoP, proximity,
             networks, access, refresh, idle, crossDevice, requiresTOTP, cibaMode, cibaEndpoint) =
            try row.decode((String, String, String?, String, String, Double, Int, Bool, String?, String?, Bool, String, String?,
                            Double?, Double?, Double?, String?, Bool, String, String?).self)
        var client = OAuthClient(id: id, name: name, secretHash: secret, scopes: ScopeSet(words: scopes),
                           grantTypes: grants.split(separator: " ").compactMap { OAuthClient.GrantType(rawValue: String($0)) },
                           codeLifetime: lifetime, interval: interval, canIntrospect: introspect,
                           idTokenSigningAlgorithm: idTokenAlgorithm, redirectURIs: OAuthClient.redirectURIs(stored: redirectURIs),
                           requiresDPoP: requiresDPoP, proximity: ProximityPolicy(rawValue: proximity) ?? .warn,
                           deviceNetworks: OAuthClient.deviceNetworks(stored: networks), accessTokenLifetime: access,
                           refreshTokenLifetime: refresh, refreshIdleLifetime: idle,
                           crossDeviceScopes: crossDevice.map { ScopeSet(words: $0) })
        client.requiresTOTP = requiresTOTP
        client.backchannelMode = BackchannelDeliveryMode(rawValue: cibaMode) ?? .poll
        client.backchannelNotificationEndpoint = cibaEndpoint
        return client
    }

    public func client(id: String) async throws -> OAuthClient? {
        guard isStorable(id) else { return nil }
        return try await first("SELECT \(unescaped: Self.clientColumns) FROM clients WHERE id = \(id)", Self.client(from:))
    }

    public func clients() async throws -> [OAuthClient] {
        try await all("SELECT \(unescaped: Self.clientColumns) FROM clients ORDER BY id", Self.client(from:))
    }

    public func addClient(_ c: OAuthClient) async throws {
        do {
            try await count("""
                INSERT INTO clients (id, name, secret_hash, scopes, grant_types, code_lifetime, "interval", can_introspect,
                                     id_token_signed_response_alg, redirect_uris, require_dpop, proximity, device_networks,
                                     access_token_lifetime, refresh_token_lifetime, refresh_idle_lifetime, cross_device_scopes,
                                     require_totp, ciba_mode, ciba_notification_endpoint)
                VALUES (\(c.id), \(c.name), \(c.secretHash), \(c.scopes.description),
                        \(c.grantTypes.map(\.rawValue).joined(separator: " ")), \(c.codeLifetime), \(c.interval), \(c.canIntrospect),
                        \(c.idTokenSigningAlgorithm), \(c.storedRedirectURIs), \(c.requiresDPoP), \(c.proximity.rawValue),
                        \(c.deviceNetworks?.description), \(c.accessTokenLifetime), \(c.refreshTokenLifetime), \(c.refreshIdleLifetime),
                        \(c.crossDeviceScopes?.description), \(c.requiresTOTP), \(c.backchannelMode.rawValue),
                        \(c.backchannelNotificationEndpoint))
                """)
        } catch where isUniqueViolation(error) {
            throw StoreError.duplicate("client \(c.id)")
        }
    }

    public func removeClient(id: String) async throws -> Bool {
        guard isStorable(id) else { return false }
        return try await count("DELETE FROM clients WHERE id = \(id) RETURNING 1") == 1
    }
}

extension PostgresStore: UserStore {
    public func user(named name: String) async throws -> UserRecord? {
        guard isStorable(name) else { return nil }
        return try await first("SELECT id, name, disabled, password_hash FROM users WHERE name = \(name)") { row in
            let (id, name, disabled, hash) = try row.decode((Int64, String, Bool, String).self)
            return UserRecord(user: User(id: id, name: name, disabled: disabled), passwordHash: hash)
        }
    }

    public func user(id: Int64) async throws -> User? {
        try await first("SELECT id, name, disabled FROM users WHERE id = \(id)", Self.user(from:))
    }

    public func users() async throws -> [User] {
        try await all("SELECT id, name, disabled FROM users ORDER BY name", Self.user(from:))
    }

    static func user(from row: PostgresRow) throws -> User {
        let (id, name, disabled) = try row.decode((Int64, String, Bool).self)
        return User(id: id, name: name, disabled: disabled)
    }

    public func addUser(name: String, passwordHash: String) async throws -> User {
        do {
            let id = try await first("""
                INSERT INTO users (name, password_hash, created_at) VALUES (\(name), \(passwordHash), \(Date().unix)) RETURNING id
                """) { try $0.decode(Int64.self) }
            guard let id else { throw StoreError.corrupt("user \(name) was not inserted") }
            return User(id: id, name: name, disabled: false)
        } catch where isUniqueViolation(error) {
            throw StoreError.duplicate("user \(name)")
        }
    }

    public func setDisabled(name: String, _ disabled: Bool) async throws -> Bool {
        guard isStorable(name) else { return false }
        return try await transaction { connection in
            let changed = try await Self.count("UPDATE users SET disabled = \(disabled) WHERE name = \(name) RETURNING 1",
                                               on: connection, logger: logger) == 1
            if changed && disabled {
                // A disabled account loses its consent sessions at once.
                try await connection.query("""
                    DELETE FROM consent_sessions WHERE user_id = (SELECT id FROM users WHERE name = \(name))
                    """, logger: logger)
            }
            return changed
        }
    }
}

extension PostgresStore: ScopeStore {
    public func scopeDescriptions() async throws -> [String: String] {
        let pairs = try await all("SELECT name, description FROM scopes") { try $0.decode((String, String).self) }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    public func setScope(name: String, description: String, stepUp: Bool) async throws {
        try await count("""
            INSERT INTO scopes (name, description, step_up) VALUES (\(name), \(description), \(stepUp))
            ON CONFLICT (name) DO UPDATE SET description = excluded.description, step_up = excluded.step_up
            """)
    }

    public func stepUpScopes() async throws -> Set<String> {
        Set(try await all("SELECT name FROM scopes WHERE step_up") { try $0.decode(String.self) })
    }
}

extension PostgresStore: KeyStore {
    public func signingKeys() async throws -> [SigningKeyRecord] {
        try await all("SELECT kid, algorithm, private_key, created_at, retired_at FROM signing_keys ORDER BY created_at") { row in
            let (kid, algorithm, key, created, retired) = try row.decode((String, String, Data, Double, Double?).self)
            return SigningKeyRecord.Algorithm(rawValue: algorithm).map {
                SigningKeyRecord(kid: kid, algorithm: $0, privateKey: key, createdAt: Date(unix: created), retiredAt: retired.map(Date.init(unix:)))
            }
        }.compactMap { $0 }
    }

    /// Serialized by an advisory lock: under READ COMMITTED a concurrent rotation's UPDATE would
    /// not see this one's new row and leave two keys active.
    public func addActiveKey(_ key: SigningKeyRecord, at now: Date) async throws {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.signingKeyLock))", logger: logger)
            let sameUse = key.algorithm.use.algorithms.map(\.rawValue)
            try await connection.query("""
                UPDATE signing_keys SET retired_at = \(now.unix) WHERE retired_at IS NULL AND algorithm = ANY(\(sameUse))
                """, logger: logger)
            try await connection.query("""
                INSERT INTO signing_keys (kid, algorithm, private_key, created_at, retired_at)
                VALUES (\(key.kid), \(key.algorithm.rawValue), \(key.privateKey), \(key.createdAt.unix), NULL)
                """, logger: logger)
        }
    }

    public func addFirstKey(_ key: SigningKeyRecord) async throws -> Bool {
        try await transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.signingKeyLock))", logger: logger)
            return try await Self.count("""
                INSERT INTO signing_keys (kid, algorithm, private_key, created_at, retired_at)
                SELECT \(key.kid), \(key.algorithm.rawValue), \(key.privateKey), \(key.createdAt.unix), NULL
                WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE retired_at IS NULL AND algorithm = ANY(\(key.algorithm.use.algorithms.map(\.rawValue))))
                RETURNING 1
                """, on: connection, logger: logger) == 1
        }
    }

    static let signingKeyLock: Int64 = 0x4841_4C4C_4B45_5953  // "HALLKEYS"
}

extension PostgresStore: ConsentSessionStore {
    public func createSession(_ s: ConsentSession) async throws {
        try await count("""
            INSERT INTO consent_sessions (token_hash, user_id, created_at, expires_at, source, front, amr, otp_at, otp_pending)
            VALUES (\(s.tokenHash), \(s.userID), \(s.createdAt.unix), \(s.expiresAt.unix), \(s.source), \(s.front),
                    \(s.methods.joined(separator: " ")), \(s.otpAt?.unix), \(s.secondFactorPending))
            """)
    }

    public func session(tokenHash: String) async throws -> ConsentSession? {
        guard isStorable(tokenHash) else { return nil }
        return try await first("""
            SELECT token_hash, user_id, created_at, expires_at, source, front, amr, otp_at, otp_pending
            FROM consent_sessions WHERE token_hash = \(tokenHash)
            """) { row in
            let (hash, user, created, expires, source, front, amr, otpAt, pending) =
                try row.decode((String, Int64, Double, Double, String, String?, String?, Double?, Bool).self)
            var session = ConsentSession(tokenHash: hash, userID: user, createdAt: Date(unix: created), expiresAt: Date(unix: expires),
                                         source: source, front: front ?? ConsentFront.terminal)
            session.methods = AuthenticationContext.methods(stored: amr)
            session.otpAt = otpAt.map(Date.init(unix:))
            session.secondFactorPending = pending
            return session
        }
    }

    public func recordSecondFactor(tokenHash: String, methods: [String], at: Date, expiresAt: Date) async throws -> Bool {
        guard isStorable(tokenHash) else { return false }
        return try await count("""
            UPDATE consent_sessions SET amr = \(methods.joined(separator: " ")), otp_at = \(at.unix), otp_pending = FALSE,
                expires_at = \(expiresAt.unix)
            WHERE token_hash = \(tokenHash) RETURNING 1
            """) == 1
    }

    public func deleteSession(tokenHash: String) async throws {
        try await count("DELETE FROM consent_sessions WHERE token_hash = \(tokenHash)")
    }
}

extension PostgresStore: SSHKeyStore {
    static let sshKeyColumns = "user_id, type, blob, fingerprint, comment, added_at"

    static func sshKey(from row: PostgresRow) throws -> SSHKeyRecord {
        let (user, type, blob, fingerprint, comment, added) = try row.decode((Int64, String, String, String, String, Double).self)
        return SSHKeyRecord(userID: user, type: type, blob: blob, fingerprint: fingerprint, comment: comment, addedAt: Date(unix: added))
    }

    public func addSSHKey(_ key: SSHKeyRecord) async throws -> Bool {
        try await count("""
            INSERT INTO ssh_keys (blob, user_id, type, fingerprint, comment, added_at)
            VALUES (\(key.blob), \(key.userID), \(key.type), \(key.fingerprint), \(key.comment), \(key.addedAt.unix))
            ON CONFLICT DO NOTHING RETURNING 1
            """) == 1
    }

    public func sshKeys(userID: Int64) async throws -> [SSHKeyRecord] {
        try await all("SELECT \(unescaped: Self.sshKeyColumns) FROM ssh_keys WHERE user_id = \(userID) ORDER BY added_at",
                      Self.sshKey(from:))
    }

    public func removeSSHKey(userID: Int64, fingerprint: String) async throws -> Bool {
        guard isStorable(fingerprint) else { return false }
        return try await count("DELETE FROM ssh_keys WHERE user_id = \(userID) AND fingerprint = \(fingerprint) RETURNING 1") > 0
    }

    public func sshKey(blob: String) async throws -> SSHKeyRecord? {
        guard isStorable(blob) else { return nil }
        return try await first("SELECT \(unescaped: Self.sshKeyColumns) FROM ssh_keys WHERE blob = \(blob)", Self.sshKey(from:))
    }
}
