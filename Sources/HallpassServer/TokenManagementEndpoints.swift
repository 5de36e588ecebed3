import Foundation
import HallpassCore
import HallpassStore
import Hummingbird

/// Revocation (RFC 7009), introspection (RFC 7662) and userinfo (OIDC Core §5.3).
struct TokenManagementEndpoints {
    let authenticator: ClientAuthenticator
    let tokens: any TokenStore
    let users: any UserStore
    let keys: KeyRing
    let verifiedTokens: VerifiedTokenCache
    let dpop: DPoPGate
    /// Userinfo's URL as clients are told it: what a DPoP proof's `htu` names there.
    let userinfoURI: String
    let issuer: String
    let clock: any WallClock
    var audit: AuditTrail = .disabled

    func addRoutes(to group: RouterGroup<HallpassRequestContext>) {
        group.post("oauth/revoke") { request, context in try await self.revoke(request, context: context) }
        group.post("oauth/introspect") { request, context in try await self.introspect(request, context: context) }
        group.get("oauth/userinfo") { request, context in try await self.userinfo(request) }
        group.post("oauth/userinfo") { request, context in try await self.userinfo(request) }
    }

    /// What a presented token turned out to be.
    enum Found {
        case refresh(RefreshTokenRecord)
        case access(AccessTokenRecord, AccessTokenClaims)
    }

    func find(_ token: String, hint: String?) async throws -> Found? {
        let looksLikeJWT = token.split(separator: ".").count == 3
        if hint != "access_token" || !looksLikeJWT, let record = try await tokens.refreshToken(hash: SecretToken.hash(token)) {
            return .refresh(record)
        }
        guard looksLikeJWT, let claims = await verifiedClaims(token),
              claims.iss == issuer, let record = try await tokens.accessToken(jti: claims.jti)
        else { return nil }
        return .access(record, claims)
    }

    /// The token's claims if its signature verifies: remembered for a minute
    /// (`VerifiedTokenCache`), so repeated introspections of one token skip Ed25519.
    private func verifiedClaims(_ token: String) async -> AccessTokenClaims? {
        let now = clock.now
        if let claims = verifiedTokens.claims(of: token, now: now) { return claims }
        guard let claims = await keys.verify(token, as: AccessTokenClaims.self) else { return nil }
        verifiedTokens.insert(token, claims: claims, now: now)
        return claims
    }

    /// RFC 7009 §2: always 200 for tokens that are unknown, already invalid, or not this client's.
    func revoke(_ request: Request, context: HallpassRequestContext) async throws -> Response {
        var request = request
        let form = try await request.form(context: context)
        let client = try await authenticator.authenticate(request, form: form)
        let token = try form.require("token")
        let now = clock.now
        switch try await find(token, hint: form["token_type_hint"]) {
        case .refresh(let record) where record.clientID == client.id:
            // RFC 7009 §2.1: revoking a refresh token also invalidates its access tokens.
            try await tokens.revokeFamily(record.familyID, at: now)
            audit.record("revocation", outcome: "ok", address: context.clientIP, client: client.id, grant: record.familyID,
                         detail: "refresh token and its family")
        case .access(let record, _) where record.clientID == client.id:
            try await tokens.revokeAccessToken(jti: record.jti, at: now)
            audit.record("revocation", outcome: "ok", address: context.clientIP, client: client.id, detail: "access token")
        default:
            break
        }
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }

    /// RFC 7662: only confidential clients registered to introspect may ask; anything not
    /// currently valid is `{"active":false}` and nothing else (§2.2).
    func introspect(_ request: Request, context: HallpassRequestContext) async throws -> Response {
        var request = request
        let form = try await request.form(context: context)
        let client = try await authenticator.authenticate(request, form: form)
        guard !client.isPublic, client.canIntrospect else {
            throw OAuthError(.invalidClient, "this client may not introspect tokens")
        }
        let token = try form.require("token")
        let now = clock.now
        let inactive = try JSONResponse.make(IntrospectionResponse.inactive)
        switch try await find(token, hint: form["token_type_hint"]) {
        case .refresh(let r):
            guard r.usedAt == nil, r.revokedAt == nil, r.expiresAt > now,
                  let family = try await tokens.family(id: r.familyID), family.revokedAt == nil,
                  let user = try await users.user(id: r.userID), !user.disabled
            else { return inactive }
            return try JSONResponse.make(IntrospectionResponse(
                active: true, tokenType: "refresh_token", scope: r.scopes.description, clientID: r.clientID,
                sub: String(r.userID), username: user.name, iss: issuer,
                iat: Int(r.issuedAt.timeIntervalSince1970), exp: Int(r.expiresAt.timeIntervalSince1970),
                authTime: Int(family.authTime.timeIntervalSince1970), amr: family.methods.isEmpty ? nil : family.methods, acr: family.acr))
        case .access(let a, let claims):
            guard a.revokedAt == nil, a.expiresAt > now,
                  let user = try await users.user(id: a.userID), !user.disabled
            else { return inactive }
            // RFC 9449 §6.2: a DPoP-bound token says so, with its key, so a resource server
            // that introspects can demand the proof.
            return try JSONResponse.make(IntrospectionResponse(
                active: true, tokenType: claims.cnf == nil ? "Bearer" : "DPoP", scope: claims.scope, clientID: claims.client_id,
                sub: claims.sub, username: user.name, aud: claims.aud, iss: claims.iss, iat: claims.iat, exp: claims.exp,
                jti: claims.jti, cnf: claims.cnf, authTime: claims.auth_time, amr: claims.amr, acr: claims.acr))
        case nil:
            return inactive
        }
    }

    /// OIDC Core §5.3 with RFC 6750 errors, and DPoP-bound tokens with their proof (RFC 9449 §7).
    func userinfo(_ request: Request) async throws -> Response {
        guard let presented = PresentedAccessToken(authorization: request.headers[.authorization]) else {
            // RFC 6750 §3.1, RFC 9449 §7.1: no token gets both challenges and no error code.
            throw ErrorAnswer(OAuthError(.invalidToken, "an access token is required (Bearer or DPoP)"),
                              challenge: "Bearer realm=\"hallpass\", \(Self.dpopChallenge(nil))")
        }
        func refuse(_ code: OAuthError.Code, _ text: String, nonce: String? = nil) -> ErrorAnswer {
            let challenge = presented.scheme == .dpop ? Self.dpopChallenge(code)
                : "Bearer realm=\"hallpass\", error=\"\(code)\""
            return ErrorAnswer(OAuthError(code, text), status: code == .insufficientScope ? .forbidden : .unauthorized,
                               challenge: challenge, dpopNonce: nonce)
        }
        guard case .access(let record, let claims)? = try await find(presented.token, hint: "access_token"),
              record.revokedAt == nil, record.expiresAt > clock.now,
              let user = try await users.user(id: record.userID), !user.disabled
        else { throw refuse(.invalidToken, "the access token is invalid, expired or revoked") }
        switch (presented.scheme, claims.cnf?.jkt) {
        case (.bearer, .some):
            // RFC 9449 §7.2: a bound token is worth nothing without its key's proof.
            throw ErrorAnswer(OAuthError(.invalidToken, "this access token is bound to a DPoP key: present it as DPoP with a proof"),
                              challenge: Self.dpopChallenge(.invalidToken))
        case (.dpop, let bound):
            switch try await dpop.proof(in: request, uri: userinfoURI, accessToken: presented.token, boundThumbprint: bound) {
            case .failure(let refusal)? where refusal.wantsNonce:
                throw refuse(.useDPoPNonce, refusal.description, nonce: try await dpop.currentNonce())
            case .failure(let refusal)?:
                throw refuse(.invalidDPoPProof, refusal.description)
            case .success, nil:
                break
            }
        case (.bearer, nil):
            break
        }
        let scopes = ScopeSet(claims.scope.split(separator: " ").map(String.init))
        guard scopes.contains("openid") else { throw refuse(.insufficientScope, "the openid scope is required") }
        var body = UserInfo(sub: claims.sub)
        if scopes.contains("profile") {
            body.preferredUsername = user.name
            body.name = user.name
        }
        return try JSONResponse.make(body)
    }

    /// RFC 9449 §7.1: the DPoP challenge names the algorithms a proof may use.
    static func dpopChallenge(_ code: OAuthError.Code?) -> String {
        let algs = "algs=\"\(DPoPProof.algorithms.joined(separator: " "))\""
        return code.map { "DPoP error=\"\($0)\", \(algs)" } ?? "DPoP \(algs)"
    }
}
