import Foundation
import HallpassCore
import HallpassStore
import Hummingbird

/// `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5–4.6): an approved browser
/// sign-in's code, once, for the client it was issued to, with the redirect URI it was issued
/// for and the `code_verifier` of its challenge. A code presented again is refused and every
/// token issued from it revoked (RFC 6749 §4.1.2, §10.5).
struct AuthorizationCodeTokenHandler: TokenGrantHandler {
    let grants: any GrantStore
    let users: any UserStore
    let minter: TokenMinter
    let metrics: ServerMetrics
    var audit: AuditTrail = .disabled

    var grantType: OAuthClient.GrantType { .authorizationCode }

    func exchange(_ request: TokenGrantRequest) async throws -> Response {
        let (form, client, now) = (request.form, request.client, request.now)
        let code = try form.require("code")
        guard let grant = try await grants.grant(codeHash: SecretToken.hash(code)), let grantID = grant.id,
              let authorization = grant.authorization
        else { throw OAuthError(.invalidGrant, "unknown authorization code") }
        // RFC 6749 §4.1.3: issued to this client. Another client presenting it learns nothing more.
        guard grant.clientID == client.id else { throw OAuthError(.invalidGrant, "unknown authorization code") }
        switch grant.effectiveStatus(at: now) {
        case .approved:
            break
        case .redeemed:
            throw try await replayed(grantID: grantID, at: now)
        case .expired:
            throw OAuthError(.invalidGrant, "the authorization code has expired")
        case .pending, .denied:
            throw OAuthError(.invalidGrant, "unknown authorization code")
        }
        try checkBinding(authorization, form: form)
        return try await redeem(grant, grantID: grantID, nonce: authorization.nonce, client: client, dpop: request.dpop, now: now)
    }

    /// RFC 6749 §4.1.3 `redirect_uri`: required and identical when the authorization request
    /// carried one; RFC 7636 §4.6 `code_verifier`: required, since every code has a challenge
    /// (a missing verifier is no downgrade to "no PKCE").
    func checkBinding(_ authorization: AuthorizationRequest, form: FormBody) throws(OAuthError) {
        let redirectURI = form["redirect_uri"]
        if authorization.redirectURISent || redirectURI != nil {
            guard let redirectURI else { throw OAuthError(.invalidRequest, "missing parameter redirect_uri") }
            guard redirectURI == authorization.redirectURI else {
                throw OAuthError(.invalidGrant, "redirect_uri differs from the authorization request's")
            }
        }
        guard let verifier = form["code_verifier"] else { throw OAuthError(.invalidRequest, "missing parameter code_verifier") }
        guard let challenge = try? PKCE.CodeChallenge(challenge: authorization.codeChallenge, method: "S256"),
              challenge.isSatisfied(by: verifier)
        else { throw OAuthError(.invalidGrant, "code_verifier does not match the code_challenge") }
    }

    /// RFC 6749 §4.1.2: a code used twice means whoever used it first may be an attacker, so
    /// every token issued from it is revoked; the error to answer.
    private func replayed(grantID: Int64, at now: Date) async throws -> OAuthError {
        try await grants.revokeTokens(grantID: grantID, at: now)
        metrics.codeReplays.increment()
        audit.record("code_reuse", outcome: "tokens_revoked", grant: String(grantID))
        return OAuthError(.invalidGrant, "the authorization code was already used; the tokens issued from it are revoked")
    }

    /// As for a device grant (ARCHITECTURE.md §3a): the account re-checked, the tokens minted and
    /// the code consumed with them in one transaction. Losing the race to a concurrent use of the
    /// same code is a replay like any other.
    private func redeem(_ grant: DeviceGrant, grantID: Int64, nonce: String?, client: OAuthClient, dpop: DPoPProof?,
                        now: Date) async throws -> Response {
        let minted = try await minter.mint(approved: grant, client: client, users: users, at: now, nonce: nonce, dpop: dpop)
        switch try await grants.redeem(grantID: grantID, tokens: minted.record, at: now) {
        case .redeemed:
            metrics.tokensIssued.increment()
            audit.record("token_issued", outcome: "ok", actor: grant.userID.map(String.init), client: client.id,
                         grant: minted.record.family.id,
                         detail: "authorization_code grant \(grantID); scope \(minted.record.scopes)\(dpop == nil ? "" : "; DPoP-bound")")
            return try JSONResponse.make(minted.body)
        case .notRedeemable:
            throw try await replayed(grantID: grantID, at: now)
        case .accountDisabled:
            throw OAuthError(.invalidGrant, "the approving account is disabled")
        }
    }
}
