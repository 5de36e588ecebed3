import Crypto
import Foundation
import HallpassCore
import HallpassStore
import JWTKit

/// The signing keys (RFC 7517 JWKS, RFC 9068 access tokens): loaded from the store, created on
/// first start, reloaded when another process (`hallpass keys rotate`) has changed them.
public actor KeyRing {
    private let store: any KeyStore
    private let clock: any WallClock
    private let policy: GrantPolicy
    private var collection = JWTKeyCollection()
    private var records: [SigningKeyRecord] = []
    private var loadedAt = Date.distantPast
    /// How long a loaded key set is trusted before re-reading the store.
    private let refreshAfter: TimeInterval = 5

    public init(store: any KeyStore, clock: any WallClock, policy: GrantPolicy) {
        self.store = store
        self.clock = clock
        self.policy = policy
    }

    /// Creates a first key (EdDSA unless told otherwise) when the store has none.
    public func ensureKey(algorithm: SigningKeyRecord.Algorithm = .eddsa) async throws {
        if try await store.signingKeys().isEmpty {
            // Replicas starting together on a fresh database: one of them makes the key.
            _ = try await store.addFirstKey(KeyRing.generate(algorithm, at: clock.now))
        }
        try await reload()
    }

    /// A fresh key record; `kid` is the RFC 7638 thumbprint, so it is stable and unique.
    public static func generate(_ algorithm: SigningKeyRecord.Algorithm, at now: Date) -> SigningKeyRecord {
        let raw: Data
        switch algorithm {
        case .eddsa: raw = Curve25519.Signing.PrivateKey().rawRepresentation
        case .es256: raw = P256.Signing.PrivateKey().rawRepresentation
        }
        var record = SigningKeyRecord(kid: "", algorithm: algorithm, privateKey: raw, createdAt: now)
        record.kid = (try? thumbprint(of: record)) ?? UUID().uuidString
        return record
    }

    /// The public JWK of a key record (RFC 7517 §4, RFC 8037 for OKP).
    static func publicJWK(of record: SigningKeyRecord) throws -> [String: String] {
        switch record.algorithm {
        case .eddsa:
            let key = try Curve25519.Signing.PrivateKey(rawRepresentation: record.privateKey)
            return ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(key.publicKey.rawRepresentation),
                    "alg": "EdDSA", "use": "sig", "kid": record.kid]
        case .es256:
            let key = try P256.Signing.PrivateKey(rawRepresentation: record.privateKey)
            let raw = key.publicKey.rawRepresentation  // x || y, 32 bytes each
            return ["kty": "EC", "crv": "P-256", "x": Base64URL.encode(raw.prefix(32)),
                    "y": Base64URL.encode(raw.suffix(32)), "alg": "ES256", "use": "sig", "kid": record.kid]
        }
    }

    /// RFC 7638 JWK thumbprint (SHA-256 over the required members in lexical order).
    static func thumbprint(of record: SigningKeyRecord) throws -> String {
        let jwk = try publicJWK(of: record)
        let members = record.algorithm == .eddsa ? ["crv", "kty", "x"] : ["crv", "kty", "x", "y"]
        let canonical = "{" + members.map { "\"\($0)\":\"\(jwk[$0]!)\"" }.joined(separator: ",") + "}"
        return Base64URL.encode(SHA256.hash(data: Data(canonical.utf8)))
    }

    func reloadIfStale() async throws {
        if clock.now.timeIntervalSince(loadedAt) > refreshAfter || records.isEmpty { try await reload() }
    }

    func reload() async throws {
        let all = try await store.signingKeys()
        let now = clock.now
        // A retired key stays published until every token it signed has expired.
        let live = all.filter { $0.retiredAt.map { now.timeIntervalSince($0) < policy.retiredKeyGrace } ?? true }
        if live.map(\.kid) != records.map(\.kid) {
            let fresh = JWTKeyCollection()
            for record in live {
                let kid = JWKIdentifier(string: record.kid)
                switch record.algorithm {
                case .eddsa:
                    let key = try Curve25519.Signing.PrivateKey(rawRepresentation: record.privateKey)
                    await fresh.add(eddsa: EdDSA.PrivateKey(backing: key), kid: kid)
                case .es256:
                    let key = try P256.Signing.PrivateKey(rawRepresentation: record.privateKey)
                    await fresh.add(ecdsa: try ES256PrivateKey(backing: key), kid: kid)
                }
            }
            collection = fresh
            records = live
        }
        loadedAt = now
    }

    /// The key new tokens are signed with: the newest unretired one.
    var activeKey: SigningKeyRecord? { records.last { $0.retiredAt == nil } ?? records.last }

    public func sign(_ payload: some JWTPayload, type: String) async throws -> String {
        try await reloadIfStale()
        guard let key = activeKey else { throw OAuthError(.serverError, "no signing key") }
        var header = JWTHeader()
        header.typ = type
        header.alg = key.algorithm.rawValue
        return try await collection.sign(payload, kid: JWKIdentifier(string: key.kid), header: header)
    }

    /// Verifies signature and claims (`exp` via the payload's `verify`); nil when invalid.
    public func verify<Payload: JWTPayload>(_ token: String, as type: Payload.Type) async -> Payload? {
        try? await reloadIfStale()
        return try? await collection.verify(token, as: Payload.self)
    }

    /// The published key set (RFC 7517 §5).
    public func jwks() async throws -> [[String: String]] {
        try await reloadIfStale()
        return try records.map(KeyRing.publicJWK(of:))
    }

    public var algorithms: [String] {
        Array(Set(records.map(\.algorithm.rawValue))).sorted()
    }
}
