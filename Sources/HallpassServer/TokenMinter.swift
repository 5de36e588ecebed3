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

    func mint(family: TokenFamily, scopes: ScopeSet, client: OAuthClient, user: User, at now: Date) async throws -> Minted {
        let iat = Int(now.timeIntervalSince1970)
        let accessExpires = now.addingTimeInterval(policy.accessTokenLifetime)
        let jti = SecretToken.generate(using: random, prefix: "at_")
        let claims = AccessTokenClaims(
            iss: issuer, sub: String(user.id), aud: issuer, client_id: client.id,
            scope: scopes.description, iat: iat, exp: Int(accessExpires.timeIntervalSince1970), jti: jti,
            auth_time: Int(family.authTime.timeIntervalSince1970))
        let accessToken = try await keys.sign(claims, type: "at+jwt")

        var body = TokenResponse(accessToken: accessToken, expiresIn: Int(policy.accessTokenLifetime),
                                 scope: scopes.description)
        var refreshHash: String?
        var refreshExpires: Date?
        if client.grantTypes.contains(.refreshToken) {
            let refresh = SecretToken.generate(using: random, prefix: "rt_")
            refreshHash = SecretToken.hash(refresh)
            refreshExpires = now.addingTimeInterval(policy.refreshTokenLifetime)
            body.refreshToken = refresh
        }
        if scopes.contains("openid") {
            let profile = scopes.contains("profile")
            let idClaims = IDTokenClaims(
                iss: issuer, sub: String(user.id), aud: client.id, iat: iat,
                exp: iat + Int(policy.idTokenLifetime), auth_time: Int(family.authTime.timeIntervalSince1970),
                preferred_username: profile ? user.name : nil, name: profile ? user.name : nil)
            body.idToken = try await keys.signIDToken(idClaims, algorithm: client.idTokenSigningAlgorithm)
        }
        let record = IssuedTokens(family: family, scopes: scopes, accessJTI: jti, accessExpiresAt: accessExpires,
                                  refreshHash: refreshHash, refreshExpiresAt: refreshExpires, issuedAt: now)
        return Minted(record: record, body: body)
    }
}
