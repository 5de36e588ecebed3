import Foundation
import HallpassCore
import HallpassStore

extension TokenMinter {
    /// What an approved grant yields, a device's or a browser sign-in's: the approving account is
    /// re-checked (ARCHITECTURE.md §3a) and a new token family starts at the decision (its
    /// `auth_time`). Nothing is stored; the caller redeems the grant with `record`.
    /// With a DPoP proof the access token is bound to its key, and so are a public client's
    /// refresh tokens, for the family's life (RFC 9449 §5); a confidential client's refresh tokens
    /// are bound to its credentials already.
    func mint(approved grant: DeviceGrant, client: OAuthClient, users: any UserStore, at now: Date,
              nonce: String? = nil, dpop: DPoPProof? = nil, pushedFor authRequestID: String? = nil) async throws -> Minted {
        guard let userID = grant.userID, let scopes = grant.grantedScopes, let user = try await users.user(id: userID)
        else { throw OAuthError(.invalidGrant, "the approving account no longer exists") }
        guard !user.disabled else { throw OAuthError(.invalidGrant, "the approving account is disabled") }
        // `auth_time` is the approver's last authentication (login or code), `amr` and `acr`
        // how it was made (ARCHITECTURE.md §4.8); a grant decided before these were recorded
        // keeps the decision's time.
        var family = TokenFamily(id: SecretToken.generate(using: random, prefix: "fam_"), clientID: client.id,
                                 userID: userID, scopes: scopes, createdAt: now, revokedAt: nil,
                                 authTime: grant.authentication?.time ?? grant.decidedAt ?? now,
                                 dpopJKT: client.isPublic ? dpop?.thumbprint : nil)
        family.methods = grant.authentication?.methods ?? []
        family.acr = grant.authentication?.acr
        return try await mint(family: family, scopes: scopes, client: client, user: user, at: now, nonce: nonce,
                              dpopKey: dpop?.thumbprint, pushedFor: authRequestID)
    }
}
