import Crypto
import Foundation
import HallpassCore
import HallpassStore

/// Builds one token response: an RFC 9068 JWT access token, a rotating refresh token when the
/// client may refresh, and an OpenID Connect ID token when `openid` was granted.
/// Nothing is stored here; the caller commits `record` and only then returns `body`.
struct TokenMinter: Sendable {
    let keys: KeyRing
    let random: any RandomSource
    let policy: GrantPolicy
    let issuer: String

    struct Minted {
        var record: IssuedTokens
        var body: TokenResponse
    }

    /// `nonce`: the authorization request's (OpenID Connect Core §3.1.2.1), for its ID token.
    /// `dpopKey`: the thumbprint of the key the request's DPoP proof was signed with; the access
    /// token is bound to it (`cnf.jkt`) and its type is `DPoP` (RFC 9449 §5, §6).
    /// `pushedFor`: the auth_req_id of a CIBA push delivery, bound into the ID token (§10.3.1).
    func mint(family: TokenFamily, scopes: ScopeSet, client: OAuthClient, user: User, at now: Date,
              nonce: String? = nil, dpopKey: String? = nil, pushedFor authRequestID: String? = nil) async throws -> Minted {
        let iat = Int(now.timeIntervalSince1970)
        // A grant at its absolute end yields nothing more; an access token never outlives it.
        let grantEnd = client.grantEnd(familyStart: family.createdAt)
        if let grantEnd, grantEnd <= now { throw OAuthError(.invalidGrant, "this grant has reached its lifetime; sign in again") }
        let accessLifetime = min(client.accessLifetime(policy), grantEnd.map { $0.timeIntervalSince(now) } ?? .infinity)
        let accessExpires = now.addingTimeInterval(accessLifetime)
        let jti = SecretToken.generate(using: random, prefix: "at_")
        let claims = AccessTokenClaims(
            iss: issuer, sub: String(user.id), aud: issuer, client_id: client.id,
            scope: scopes.description, iat: iat, exp: Int(accessExpires.timeIntervalSince1970), jti: jti,
            auth_time: Int(family.authTime.timeIntervalSince1970), amr: family.methods.isEmpty ? nil : family.methods, acr: family.acr,
            cnf: dpopKey.map(AccessTokenClaims.Confirmation.init(jkt:)))
        let accessToken = try await keys.sign(claims, type: "at+jwt")

        var body = TokenResponse(accessToken: accessToken, expiresIn: Int(accessLifetime),
                                 scope: scopes.description)
        if dpopKey != nil { body.tokenType = "DPoP" }
        var refreshHash: String?
        var refreshExpires: Date?
        var refreshToken: String?
        if client.grantTypes.contains(.refreshToken) {
            let refresh = SecretToken.generate(using: random, prefix: "rt_")
            refreshHash = SecretToken.hash(refresh)
            refreshExpires = client.refreshExpiry(familyStart: family.createdAt, now: now, policy)
            body.refreshToken = refresh
            refreshToken = refresh
        }
        if scopes.contains("openid") {
            let profile = scopes.contains("profile")
            body.idToken = try await keys.signIDToken(algorithm: client.idTokenSigningAlgorithm) { algorithm in
                IDTokenClaims(
                    iss: issuer, sub: String(user.id), aud: client.id, iat: iat,
                    exp: iat + Int(policy.idTokenLifetime), auth_time: Int(family.authTime.timeIntervalSince1970),
                    nonce: nonce, at_hash: Self.halfHash(accessToken, algorithm: algorithm),
                    amr: family.methods.isEmpty ? nil : family.methods, acr: family.acr, preferred_username: profile ? user.name : nil, name: profile ? user.name : nil,
                    auth_req_id: authRequestID,
                    rt_hash: authRequestID == nil ? nil : refreshToken.map { Self.halfHash($0, algorithm: algorithm) })
            }
        }
        let record = IssuedTokens(family: family, scopes: scopes, accessJTI: jti, accessExpiresAt: accessExpires,
                                  refreshHash: refreshHash, refreshExpiresAt: refreshExpires, issuedAt: now)
        return Minted(record: record, body: body)
    }

    /// OpenID Connect Core §3.1.3.6 `at_hash`: base64url of the left half of the token's hash,
    /// with the hash of the ID token's algorithm (SHA-256 for RS256 and ES256; SHA-512 for
    /// Ed25519, as OpenID Connect's errata and node-oidc-provider have it for EdDSA).
    static func halfHash(_ token: String, algorithm: SigningKeyRecord.Algorithm) -> String {
        let bytes = Data(token.utf8)
        let digest: [UInt8] = algorithm == .eddsa ? Array(SHA512.hash(data: bytes)) : Array(SHA256.hash(data: bytes))
        return Base64URL.encode(digest.prefix(digest.count / 2))
    }
}
