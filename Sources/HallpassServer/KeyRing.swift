import Crypto
import _CryptoExtras
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
    /// DPoP nonce keys (RFC 9449 §8), derived from the published keys every replica shares.
    private var nonceKeys: [SymmetricKey] = []
    /// How long a loaded key set is trusted before re-reading the store.
    private let refreshAfter: TimeInterval = 5

    public init(store: any KeyStore, clock: any WallClock, policy: GrantPolicy) {
        self.store = store
        self.clock = clock
        self.policy = policy
    }

    /// Creates the first access-token key (EdDSA unless told otherwise) and the first ID-token
    /// key (RS256) when the store has no unretired key of that use.
    public func ensureKey(algorithm: SigningKeyRecord.Algorithm = .eddsa) async throws {
        let existing = try await store.signingKeys()
        for use in SigningKeyRecord.Use.allCases
        where !existing.contains(where: { $0.algorithm.use == use && $0.retiredAt == nil }) {
            // Replicas starting together on a fresh database: one of them makes the key.
            _ = try await store.addFirstKey(try KeyRing.generate(use == .idToken ? .rs256 : algorithm, at: clock.now))
        }
        try await reload()
    }

    /// A fresh key record; `kid` is the RFC 7638 thumbprint, so it is stable and unique.
    /// Throws rather than store a key it could not make or describe.
    public static func generate(_ algorithm: SigningKeyRecord.Algorithm, at now: Date) throws -> SigningKeyRecord {
        let raw: Data
        switch algorithm {
        case .eddsa: raw = Curve25519.Signing.PrivateKey().rawRepresentation
        case .es256: raw = P256.Signing.PrivateKey().rawRepresentation
        case .rs256: raw = try _RSA.Signing.PrivateKey(keySize: .bits2048).derRepresentation
        }
        var record = SigningKeyRecord(kid: "", algorithm: algorithm, privateKey: raw, createdAt: now)
        record.kid = try thumbprint(of: record)
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
        case .rs256:
            // RFC 7518 §6.3.1: modulus and exponent as unsigned big-endian base64url.
            let key = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(derRepresentation: record.privateKey))
            let (modulus, exponent) = try key.publicKey.getKeyPrimitives()
            return ["kty": "RSA", "n": Base64URL.encode(modulus.drop { $0 == 0 }), "e": Base64URL.encode(exponent.drop { $0 == 0 }),
                    "alg": "RS256", "use": "sig", "kid": record.kid]
        }
    }

    /// RFC 7638 JWK thumbprint (SHA-256 over the required members in lexical order).
    static func thumbprint(of record: SigningKeyRecord) throws -> String {
        try PublicJWK(json: publicJWK(of: record)).thumbprint
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
                case .rs256:
                    let key = try _RSA.Signing.PrivateKey(derRepresentation: record.privateKey)
                    await fresh.add(rsa: try Insecure.RSA.PrivateKey(backing: key), digestAlgorithm: .sha256, kid: kid)
                }
            }
            collection = fresh
            records = live
            // The active access-token key's first, so nonces are issued under it.
            let ordered = [activeKey(for: .accessToken)].compactMap { $0 } + live.reversed()
            var seen = Set<String>()
            nonceKeys = ordered.filter { seen.insert($0.kid).inserted }.map { DPoPNonce.key(from: $0.privateKey) }
        }
        loadedAt = now
    }

    /// The keys DPoP nonces are made under (the first) and honoured with (any): derived from the
    /// published signing keys, so replicas agree without sharing anything else, and a rotation
    /// keeps the nonces issued before it valid while the old key is published.
    public func dpopNonceKeys() async throws -> [SymmetricKey] {
        try await reloadIfStale()
        return nonceKeys
    }

    /// The key new tokens of `use` are signed with: the newest unretired one of that use.
    func activeKey(for use: SigningKeyRecord.Use) -> SigningKeyRecord? {
        let candidates = records.filter { $0.algorithm.use == use }
        return candidates.last { $0.retiredAt == nil } ?? candidates.last
    }

    /// The newest unretired key of `algorithm`, nil when there is none.
    func activeKey(algorithm: SigningKeyRecord.Algorithm) -> SigningKeyRecord? {
        records.last { $0.algorithm == algorithm && $0.retiredAt == nil }
    }

    /// Signs an access token (`at+jwt`, RFC 9068) with the active access-token key.
    public func sign(_ payload: some JWTPayload, type: String) async throws -> String {
        try await reloadIfStale()
        return try await sign(payload, type: type, with: activeKey(for: .accessToken))
    }

    /// Signs an ID token with the client's registered `id_token_signed_response_alg` (OIDC
    /// Registration §2), RS256 when it has none, or when no key of its algorithm is active (RS256
    /// is the one every relying party must accept, OIDC Core §15.1).
    /// `claims` gets the algorithm the token is signed with (the client's, or RS256 when no key
    /// of it is active), since `at_hash` depends on it (OpenID Connect Core §3.1.3.6).
    public func signIDToken<Payload: JWTPayload>(
        algorithm: String?, claims: (SigningKeyRecord.Algorithm) -> Payload
    ) async throws -> String {
        try await reloadIfStale()
        let wanted = algorithm.flatMap(SigningKeyRecord.Algorithm.init(rawValue:)) ?? .rs256
        let key = activeKey(algorithm: wanted) ?? activeKey(for: .idToken)
        return try await sign(claims(key?.algorithm ?? .rs256), type: "JWT", with: key)
    }

    private func sign(_ payload: some JWTPayload, type: String, with key: SigningKeyRecord?) async throws -> String {
        guard let key else { throw OAuthError(.serverError, "no signing key") }
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

    /// The published key set (RFC 7517 §5). A retired key, published until the tokens it signed
    /// have expired, says when it was retired in `hallpass_retired_at` (RFC 3339; RFC 7517 §4 lets
    /// a JWK carry members a reader does not know, and JOSE libraries ignore it), so
    /// `hallpass token inspect` can say which key a token was signed with and what became of it.
    public func jwks() async throws -> [[String: String]] {
        try await reloadIfStale()
        return try records.map { record in
            var jwk = try KeyRing.publicJWK(of: record)
            if let retired = record.retiredAt { jwk[KeyRing.retiredMember] = retired.formatted(.iso8601) }
            return jwk
        }
    }

    public static let retiredMember = "hallpass_retired_at"

    public var algorithms: [String] {
        Array(Set(records.map(\.algorithm.rawValue))).sorted()
    }

    /// What an ID token may be signed with: RS256 first, then the access-token algorithms
    /// (OpenID Connect Discovery §3 `id_token_signing_alg_values_supported`).
    public var idTokenAlgorithms: [String] {
        let live = Set(records.filter { $0.retiredAt == nil }.map(\.algorithm))
        return ["RS256"] + SigningKeyRecord.Algorithm.allCases.filter { $0 != .rs256 && live.contains($0) }.map(\.rawValue)
    }
}
