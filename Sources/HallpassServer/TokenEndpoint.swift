import Foundation
import HallpassCore
import HallpassStore
import Hummingbird

/// `POST /oauth/token` (RFC 6749 §5, RFC 8628 §3.4–3.5): the single authority that turns an
/// approved device code, or a refresh token, into tokens.
struct TokenEndpoint {
    let server: AuthorizationServer

    func addRoutes(to group: RouterGroup<HallpassRequestContext>) {
        group.post("oauth/token") { request, context in
            try await self.token(request, context: context)
        }
    }

    func token(_ request: Request, context: HallpassRequestContext) async throws -> Response {
        var request = request
        let form = try await request.form(context: context)
        guard let grantType = form["grant_type"] else {
            throw OAuthError(.invalidRequest, "missing parameter grant_type")
        }
        guard let kind = OAuthClient.GrantType(rawValue: grantType) else {
            throw OAuthError(.unsupportedGrantType, "grant_type \(FormBody.quoted(grantType)) is not supported")
        }
        let client = try await ClientAuthenticator(server: server).authenticate(request, form: form)
        guard client.grantTypes.contains(kind) else {
            throw OAuthError(.unauthorizedClient, "this client may not use grant_type \(grantType)")
        }
        switch kind {
        case .deviceCode: return try await deviceCode(form: form, client: client, peer: context.clientIP)
        case .refreshToken: return try await refresh(form: form, client: client)
        }
    }

    /// RFC 8628 §3.4–3.5.
    private func deviceCode(form: FormBody, client: OAuthClient, peer: String) async throws -> Response {
        let deviceCode = try form.require("device_code")
        let now = server.clock.now
        guard let grant = try await server.store.grant(deviceCodeHash: SecretToken.hash(deviceCode)),
              grant.clientID == client.id, let grantID = grant.id
        else {
            server.recordFailedRedemption(address: peer)
            throw OAuthError(.invalidGrant, "unknown device_code")
        }

        switch grant.redemption(at: now) {
        case .pending:
            if case .slowDown(let newInterval) = server.pace(grantID: grantID, interval: grant.interval, now: now) {
                try await server.store.setInterval(grantID: grantID, interval: newInterval)
                server.metrics.slowDowns.increment()
                throw OAuthError(.slowDown, "polling too fast: wait \(newInterval) seconds between requests")
            }
            server.metrics.pollsPending.increment()
            throw OAuthError(.authorizationPending, "the user has not decided yet")
        case .denied:
            server.forgetPolls(grantID: grantID)
            throw OAuthError(.accessDenied, "the user denied the request")
        case .expired:
            server.forgetPolls(grantID: grantID)
            throw OAuthError(.expiredToken, "the device code has expired")
        case .alreadyRedeemed:
            throw OAuthError(.invalidGrant, "the device code was already used")
        case .approved:
            guard let userID = grant.userID, let scopes = grant.grantedScopes,
                  let user = try await server.store.user(id: userID)
            else { throw OAuthError(.invalidGrant, "the approving account no longer exists") }
            guard !user.disabled else { throw OAuthError(.invalidGrant, "the approving account is disabled") }
            let family = TokenFamily(id: SecretToken.generate(using: server.random, prefix: "fam_"), clientID: client.id,
                                     userID: userID, scopes: scopes, createdAt: now, revokedAt: nil,
                                     authTime: grant.decidedAt ?? now)
            let minted = try await TokenMinter(server: server).mint(family: family, scopes: scopes, client: client, user: user, at: now)
            switch try await server.store.redeem(grantID: grantID, tokens: minted.record, at: now) {
            case .redeemed:
                server.forgetPolls(grantID: grantID)
                server.metrics.tokensIssued.increment()
                return JSONResponse.make(minted.body)
            case .notRedeemable:
                throw OAuthError(.invalidGrant, "the device code was already used")
            case .accountDisabled:
                throw OAuthError(.invalidGrant, "the approving account is disabled")
            }
        }
    }

    /// RFC 6749 §6 with rotation: every use yields a new refresh token; reuse of an old one
    /// revokes the family (OAuth 2.0 Security BCP §4.14.2).
    private func refresh(form: FormBody, client: OAuthClient) async throws -> Response {
        let token = try form.require("refresh_token")
        let now = server.clock.now
        let hash = SecretToken.hash(token)
        guard let record = try await server.store.refreshToken(hash: hash), record.clientID == client.id,
              let family = try await server.store.family(id: record.familyID)
        else { throw OAuthError(.invalidGrant, "unknown refresh token") }
        let requested = try form["scope"].map { (text: String) throws(OAuthError) in try ScopeSet(parsing: text) }
        let scopes = requested ?? family.scopes
        guard !scopes.isEmpty, scopes.isSubset(of: family.scopes) else {
            throw OAuthError(.invalidScope, "a refresh may only narrow the scope that was granted")
        }
        guard let user = try await server.store.user(id: record.userID), !user.disabled else {
            throw OAuthError(.invalidGrant, "the account is disabled")
        }
        let minted = try await TokenMinter(server: server).mint(family: family, scopes: scopes, client: client, user: user, at: now)
        switch try await server.store.rotate(oldHash: hash, successor: minted.record, at: now) {
        case .rotated:
            server.metrics.tokensIssued.increment()
            return JSONResponse.make(minted.body)
        case .reused:
            throw OAuthError(.invalidGrant, "refresh token was already used; every token of this grant is now revoked")
        case .invalid:
            throw OAuthError(.invalidGrant, "refresh token is expired or revoked")
        case .accountDisabled:
            throw OAuthError(.invalidGrant, "the account is disabled")
        }
    }
}
