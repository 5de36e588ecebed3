import Foundation
import HallpassCore
import HallpassStore
import Hummingbird

/// `grant_type=urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4–3.5): the single
/// authority that turns an approved device code into tokens, once. With `backchannel` it serves
/// `urn:openid:params:grant-type:ciba` (CIBA Core §10.1–11, poll mode) the same way: the
/// `auth_req_id` is the request's device code, and the answers (`authorization_pending`,
/// `slow_down` +5 s, `access_denied`, `expired_token`) are the same.
struct DeviceCodeTokenHandler: TokenGrantHandler {
    let grants: any GrantStore
    let users: any UserStore
    let minter: TokenMinter
    let polls: PollLedger
    let unknownCodes: any UnknownDeviceCodeCounter
    let metrics: ServerMetrics
    var audit: AuditTrail = .disabled
    /// Serves CIBA's poll mode instead of RFC 8628.
    var backchannel = false

    var grantType: OAuthClient.GrantType { backchannel ? .ciba : .deviceCode }
    private var parameter: String { backchannel ? "auth_req_id" : "device_code" }

    func exchange(_ request: TokenGrantRequest) async throws -> Response {
        let (client, now) = (request.client, request.now)
        if backchannel, client.backchannelMode == .push {
            throw OAuthError(.unauthorizedClient, "this client receives its tokens at its notification endpoint (push mode), not here")
        }
        guard let grant = try await grants.grant(deviceCodeHash: SecretToken.hash(try request.form.require(parameter))),
              grant.clientID == client.id, let grantID = grant.id,
              grant.authorization == nil,    // a browser sign-in's page handle is no device code
              grant.backchannel == backchannel
        else {
            unknownCodes.recordFailure(address: request.peer)
            throw OAuthError(.invalidGrant, "unknown \(parameter)")
        }

        switch grant.redemption(at: now) {
        case .pending:
            // RFC 8628 §3.5: polling faster than the interval answers slow_down, +5 s.
            if case .slowDown(let newInterval) = polls.pace(grantID: grantID, interval: grant.interval, now: now) {
                try await grants.setInterval(grantID: grantID, interval: newInterval)
                metrics.slowDowns.increment()
                throw OAuthError(.slowDown, "polling too fast: wait \(newInterval) seconds between requests")
            }
            metrics.pollsPending.increment()
            throw OAuthError(.authorizationPending, "the user has not decided yet")
        case .denied:
            polls.forget(grantID: grantID)
            throw OAuthError(.accessDenied, "the user denied the request")
        case .expired:
            polls.forget(grantID: grantID)
            throw OAuthError(.expiredToken, "the \(parameter) has expired")
        case .alreadyRedeemed:
            throw OAuthError(.invalidGrant, "the \(parameter) was already used")
        case .approved:
            return try await redeem(grant, grantID: grantID, client: client, dpop: request.dpop, peer: request.peer, now: now)
        }
    }

    /// The account is re-checked, the tokens minted, and the grant consumed with them in one
    /// transaction (ARCHITECTURE.md §3a); only then is the body sent.
    private func redeem(_ grant: DeviceGrant, grantID: Int64, client: OAuthClient, dpop: DPoPProof?, peer: String, now: Date)
        async throws -> Response
    {
        let minted = try await minter.mint(approved: grant, client: client, users: users, at: now, dpop: dpop)
        switch try await grants.redeem(grantID: grantID, tokens: minted.record, at: now) {
        case .redeemed:
            polls.forget(grantID: grantID)
            metrics.tokensIssued.increment()
            audit.record("token_issued", outcome: "ok", actor: grant.userID.map(String.init), address: peer, client: client.id,
                         grant: minted.record.family.id,
                         detail: "\(backchannel ? "ciba" : "device_code") grant \(grantID); scope \(minted.record.scopes)\(dpop == nil ? "" : "; DPoP-bound")")
            return try JSONResponse.make(minted.body)
        case .notRedeemable:
            throw OAuthError(.invalidGrant, "the \(parameter) was already used")
        case .accountDisabled:
            throw OAuthError(.invalidGrant, "the approving account is disabled")
        }
    }
}
