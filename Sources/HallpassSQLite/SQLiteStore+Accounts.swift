import Foundation
import GRDB
import HallpassCore
import HallpassStore

extension SQLiteStore: ClientStore {
    /// Every token request looks its client up: a point read through `HotReader`.
    public func client(id: String) async throws -> OAuthClient? {
        guard isStorable(id) else { return nil }
        return try hot.withConnection { connection in
            try connection.queryOne("""
                SELECT id, name, secret_hash, scopes, grant_types, code_lifetime, interval, can_introspect, id_token_signed_response_alg,
                       redirect_uris, require_dpop, proximity, device_networks, access_token_lifetime, refresh_token_lifetime,
                       refresh_idle_lifetime, cross_device_scopes, require_totp, ciba_mode, ciba_notification_endpoint
                FROM clients WHERE id = ?
                """, id) { row in
                var client = OAuthClient(
                    id: row.text(0) ?? "", name: row.text(1) ?? "", secretHash: row.text(2), scopes: ScopeSet(words: row.text(3)),
                    grantTypes: (row.text(4) ?? "").split(separator: " ").compactMap { OAuthClient.GrantType(rawValue: String($0)) },
                    codeLifetime: row.double(5) ?? 600, interval: Int(row.int(6) ?? 5), canIntrospect: (row.int(7) ?? 0) != 0,
                    idTokenSigningAlgorithm: row.text(8), redirectURIs: OAuthClient.redirectURIs(stored: row.text(9)),
                    requiresDPoP: (row.int(10) ?? 0) != 0, proximity: ProximityPolicy(rawValue: row.text(11) ?? "") ?? .warn,
                    deviceNetworks: OAuthClient.deviceNetworks(stored: row.text(12)), accessTokenLifetime: row.double(13),
                    refreshTokenLifetime: row.double(14), refreshIdleLifetime: row.double(15),
                    crossDeviceScopes: row.text(16).map { ScopeSet(words: $0) })
                client.requiresTOTP = (row.int(17) ?? 0) != 0
                client.backchannelMode = BackchannelDeliveryMode(rawValue: row.text(18) ?? "") ?? .poll
                client.backchannelNotificationEndpoint = row.text(19)
                return client
            }
        }
    }

    public func clients() async throws -> [OAuthClient] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM clients ORDER BY id").map(SQLiteStore.client(from:))
        }
    }

    public func addClient(_ c: OAuthClient) async throws {
        do {
            try await pool.write { db in
                try db.execute(sql: """
                    INSERT INTO clients (id, name, secret_hash, scopes, grant_types, code_lifetime, interval, can_introspect,
                                         id_token_signed_response_alg, redirect_uris, require_dpop, proximity, device_networks,
                                         access_token_lifetime, refresh_token_lifetime, refresh_idle_lifetime, cross_device_scopes,
                                         require_totp, ciba_mode, ciba_notification_endpoint)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [c.id, c.name, c.secretHash, c.scopes.description,
                                     c.grantTypes.map(\.rawValue).joined(separator: " "), c.codeLifetime,
                                     c.interval, c.canIntrospect, c.idTokenSigningAlgorithm, c.storedRedirectURIs,
                                     c.requiresDPoP, c.proximity.rawValue, c.deviceNetworks?.description,
                                     c.accessTokenLifetime, c.refreshTokenLifetime, c.refreshIdleLifetime,
                                     c.crossDeviceScopes?.description, c.requiresTOTP, c.backchannelMode.rawValue,
                                     c.backchannelNotificationEndpoint])
            }
        } catch where isUniqueViolation(error) {
            throw StoreError.duplicate("client \(c.id)")
        }
    }

    public func removeClient(id: String) async throws -> Bool {
        guard isStorable(id) else { return false }
        return try await pool.write { db in
            try db.execute(sql: "DELETE FROM clients WHERE id = ?", arguments: [id])
            return db.changesCount == 1
        }
    }

    static func client(from row: Row) -> OAuthClient {
        var client = OAuthClient(
            id: row["id"], name: row["name"], secretHash: row["secret_hash"], scopes: row.scopes("scopes"),
            grantTypes: (row["grant_types"] as String).split(separator: " ").compactMap { OAuthClient.GrantType(rawValue: String($0)) },
            codeLifetime: row["code_lifetime"], interval: row["interval"], canIntrospect: row["can_introspect"],
            idTokenSigningAlgorithm: row["id_token_signed_response_alg"],
            redirectURIs: OAuthClient.redirectURIs(stored: row["redirect_uris"]), requiresDPoP: row["require_dpop"],
            proximity: ProximityPolicy(rawValue: row["proximity"] ?? "") ?? .warn,
            deviceNetworks: OAuthClient.deviceNetworks(stored: row["device_networks"]),
            accessTokenLifetime: row["access_token_lifetime"], refreshTokenLifetime: row["refresh_token_lifetime"],
            refreshIdleLifetime: row["refresh_idle_lifetime"],
            crossDeviceScopes: (row["cross_device_scopes"] as String?).map { ScopeSet(words: $0) })
        client.requiresTOTP = row["require_totp"] ?? false
        client.backchannelMode = BackchannelDeliveryMode(rawValue: row["ciba_mode"] ?? "") ?? .poll
        client.backchannelNotificationEndpoint = row["ciba_notification_endpoint"]
        return client
    }
}

extension SQLiteStore: UserStore {
    public func user(named name: String) async throws -> UserRecord? {
        guard isStorable(name) else { return nil }
        return try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM users WHERE name = ?", arguments: [name]).map { row in
                UserRecord(user: User(id: row["id"], name: row["name"], disabled: row["disabled"]),
                           passwordHash: row["password_hash"])
            }
        }
    }

    /// A `HotReader` point read: every consent call and every redemption asks.
    public func user(id: Int64) async throws -> User? {
        try hot.withConnection { connection in
            // The id travels as text; the INTEGER column's affinity compares it as a number.
            try connection.queryOne("SELECT id, name, disabled FROM users WHERE id = ?", String(id)) { row in
                User(id: row.int(0) ?? id, name: row.text(1) ?? "", disabled: (row.int(2) ?? 0) != 0)
            }
        }
    }

    public func users() async throws -> [User] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, disabled FROM users ORDER BY name").map { row in
                User(id: row["id"], name: row["name"], disabled: row["disabled"])
            }
        }
    }

    public func addUser(name: String, passwordHash: String) async throws -> User {
        do {
            return try await pool.write { db in
                try db.execute(sql: "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
                               arguments: [name, passwordHash, Date().unix])
                return User(id: db.lastInsertedRowID, name: name, disabled: false)
            }
        } catch where isUniqueViolation(error) {
            throw StoreError.duplicate("user \(name)")
        }
    }

    public func setDisabled(name: String, _ disabled: Bool) async throws -> Bool {
        guard isStorable(name) else { return false }
        return try await pool.write { db in
            try db.execute(sql: "UPDATE users SET disabled = ? WHERE name = ?", arguments: [disabled, name])
            let changed = db.changesCount == 1
            if changed && disabled {
                // A disabled account loses its consent sessions at once.
                try db.execute(sql: "DELETE FROM consent_sessions WHERE user_id = (SELECT id FROM users WHERE name = ?)",
                               arguments: [name])
            }
            return changed
        }
    }
}

extension SQLiteStore: ScopeStore {
    public func scopeDescriptions() async throws -> [String: String] {
        try await pool.read { db in
            var result: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, description FROM scopes") {
                result[row["name"]] = row["description"]
            }
            return result
        }
    }

    public func setScope(name: String, description: String, stepUp: Bool) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO scopes (name, description, step_up) VALUES (?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET description = excluded.description, step_up = excluded.step_up
                """, arguments: [name, description, stepUp])
        }
    }

    public func stepUpScopes() async throws -> Set<String> {
        try await pool.read { db in Set(try String.fetchAll(db, sql: "SELECT name FROM scopes WHERE step_up = 1")) }
    }
}

extension SQLiteStore: KeyStore {
    private func placeholders(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ", ") }

    public func signingKeys() async throws -> [SigningKeyRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signing_keys ORDER BY created_at").compactMap { row in
                guard let alg = SigningKeyRecord.Algorithm(rawValue: row["algorithm"]) else { return nil }
                return SigningKeyRecord(kid: row["kid"], algorithm: alg, privateKey: row["private_key"],
                                        createdAt: row.date("created_at") ?? .distantPast, retiredAt: row.date("retired_at"))
            }
        }
    }

    public func addActiveKey(_ key: SigningKeyRecord, at now: Date) async throws {
        try await pool.write { db in
            let sameUse = key.algorithm.use.algorithms.map(\.rawValue)
            try db.execute(sql: "UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL AND algorithm IN (\(placeholders(sameUse.count)))",
                           arguments: StatementArguments([now.unix] as [any DatabaseValueConvertible] + sameUse))
            try db.execute(sql: """
                INSERT INTO signing_keys (kid, algorithm, private_key, created_at, retired_at) VALUES (?, ?, ?, ?, NULL)
                """, arguments: [key.kid, key.algorithm.rawValue, key.privateKey, key.createdAt.unix])
        }
    }

    /// SQLite writes are serialized, so the check and the insert cannot interleave.
    public func addFirstKey(_ key: SigningKeyRecord) async throws -> Bool {
        try await pool.write { db in
            let sameUse = key.algorithm.use.algorithms.map(\.rawValue)
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM signing_keys WHERE retired_at IS NULL AND algorithm IN (\(placeholders(sameUse.count)))",
                                   arguments: StatementArguments(sameUse)) == 0 else { return false }
            try db.execute(sql: """
                INSERT INTO signing_keys (kid, algorithm, private_key, created_at, retired_at) VALUES (?, ?, ?, ?, NULL)
                """, arguments: [key.kid, key.algorithm.rawValue, key.privateKey, key.createdAt.unix])
            return true
        }
    }
}

extension SQLiteStore: ConsentSessionStore {
    public func createSession(_ s: ConsentSession) async throws {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO consent_sessions (token_hash, user_id, created_at, expires_at, source, front, amr, otp_at, otp_pending)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [s.tokenHash, s.userID, s.createdAt.unix, s.expiresAt.unix, s.source, s.front,
                                 s.methods.joined(separator: " "), s.otpAt?.unix, s.secondFactorPending])
        }
    }

    /// A `HotReader` point read: every consent call starts here.
    public func session(tokenHash: String) async throws -> ConsentSession? {
        guard isStorable(tokenHash) else { return nil }
        return try hot.withConnection { connection in
            try connection.queryOne("""
                SELECT token_hash, user_id, created_at, expires_at, source, front, amr, otp_at, otp_pending
                FROM consent_sessions WHERE token_hash = ?
                """, tokenHash) { row in
                var session = ConsentSession(tokenHash: row.text(0) ?? "", userID: row.int(1) ?? -1,
                                             createdAt: row.double(2).map(Date.init(unix:)) ?? .distantPast,
                                             expiresAt: row.double(3).map(Date.init(unix:)) ?? .distantPast, source: row.text(4) ?? "",
                                             front: row.text(5) ?? ConsentFront.terminal)
                session.methods = AuthenticationContext.methods(stored: row.text(6))
                session.otpAt = row.double(7).map(Date.init(unix:))
                session.secondFactorPending = (row.int(8) ?? 0) != 0
                return session
            }
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM consent_sessions WHERE token_hash = ?", arguments: [tokenHash])
        }
    }

    public func recordSecondFactor(tokenHash: String, methods: [String], at: Date, expiresAt: Date) async throws -> Bool {
        guard isStorable(tokenHash) else { return false }
        return try await pool.write { db in
            try db.execute(sql: """
                UPDATE consent_sessions SET amr = ?, otp_at = ?, otp_pending = 0, expires_at = ? WHERE token_hash = ?
                """, arguments: [methods.joined(separator: " "), at.unix, expiresAt.unix, tokenHash])
            return db.changesCount == 1
        }
    }
}
