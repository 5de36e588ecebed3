import Foundation
import HallpassCore
import HallpassStore
import Hummingbird

/// `grant_type=refresh_token` (RFC 6749 §6) with rotation: every use yields a new refresh
/// token; reuse of an old one revokes the family (RFC 9700 §4.14.2). A public client's family
/// bound to a DPoP key refreshes only with a proof from that key (RFC 9449 §5), checked before
/// the token is used, so a stolen refresh token without the key is refused and costs nothing.
struct RefreshTokenHandler: TokenGrantHandler {
    let tokens: any TokenStore
    let users: any UserStore
    let minter: TokenMinter
    let metrics: ServerMetrics
    var audit: AuditTrail = .disabled

    var grantType: OAuthClient.GrantType { .refreshToken }

    func exchange(_ request: TokenGrantRequest) async throws -> Response {
        let hash = SecretToken.hash(try request.form.require("refresh_token"))
        guard let record = try await tokens.refreshToken(hash: hash), record.clientID == request.client.id,
              let family = try await tokens.family(id: record.familyID)
        else { throw OAuthError(.invalidGrant, "unknown refresh token") }
        if let bound = family.dpopJKT {
            guard let proof = request.dpop else {
                throw OAuthError(.invalidDPoPProof, "this refresh token is bound to a DPoP key: send a proof signed with it")
            }
            guard proof.thumbprint == bound else {
                throw OAuthError(.invalidGrant, "this refresh token is bound to another DPoP key")
            }
        } else if request.client.isPublic, let proof = request.dpop {
            // §5: a public client's refresh token issued in answer to a proof is bound to its key,
            // from this refresh on (the family was issued without one). A family bound meanwhile
            // by a concurrent refresh with another key refuses this one.
            let bound = try await tokens.bindFamily(id: family.id, dpopJKT: proof.thumbprint)
            if !bound, try await tokens.family(id: family.id)?.dpopJKT != proof.thumbprint {
                throw OAuthError(.invalidGrant, "this refresh token is bound to another DPoP key")
            }
        }
        // RFC 6749 §6: the scope may only narrow what was granted.
        let requested = try request.form["scope"].map { (text: String) throws(OAuthError) in try ScopeSet(parsing: text) }
        let scopes = requested ?? family.scopes
        guard !scopes.isEmpty, scopes.isSubset(of: family.scopes) else {
            throw OAuthError(.invalidScope, "a refresh may only narrow the scope that was granted")
        }
        guard let user = try await users.user(id: record.userID), !user.disabled else {
            throw OAuthError(.invalidGrant, "the account is disabled")
        }
        let minted = try await minter.mint(family: family, scopes: scopes, client: request.client, user: user, at: request.now,
                                           dpopKey: request.dpop?.thumbprint)
        switch try await tokens.rotate(oldHash: hash, successor: minted.record, at: request.now) {
        case .rotated:
            metrics.tokensIssued.increment()
            audit.record("refresh", outcome: "ok", actor: String(record.userID), address: request.peer, client: request.client.id,
                         grant: family.id)
            return try JSONResponse.make(minted.body)
        case .reused:
            audit.record("refresh_reuse", outcome: "family_revoked", actor: String(record.userID), address: request.peer,
                         client: request.client.id, grant: family.id)
            throw OAuthError(.invalidGrant, "refresh token was already used; every token of this grant is now revoked")
        case .invalid:
            throw OAuthError(.invalidGrant, "refresh token is expired or revoked")
        case .accountDisabled:
            throw OAuthError(.invalidGrant, "the account is disabled")
        }
    }
}
