import Foundation
import HallpassCore
import HallpassStore
import Hummingbird

/// DPoP at this server's own endpoints (RFC 9449): the token endpoint (§5) and userinfo (§7).
/// Runs `DPoPProof.check` against the URL the client was told (the issuer's, so a proxy in front
/// changes nothing), honours this server's nonces (§8) and remembers every accepted proof in the
/// store shared by the replicas, so a proof is accepted once (§11.1).
struct DPoPGate: Sendable {
    let replays: any DPoPReplayStore
    let keys: KeyRing
    let clock: any WallClock
    /// `dpop_nonces`: every proof must carry a nonce from here.
    let requireNonces: Bool
    var audit: AuditTrail = .disabled
    let nonces = DPoPNonce()
    let freshness = DPoPProof.Freshness()

    /// The `DPoP` header fields of `request`, each one.
    static func proofHeaders(_ request: Request) -> [String] {
        request.headers[values: HTTPFields.dpopName]
    }

    /// The proof `request` carries for `uri`, checked and recorded; nil when it carries none.
    /// Refusals are `Refusal`s for the endpoint to phrase in its own way (§5 vs §7.1).
    func proof(in request: Request, uri: String, accessToken: String? = nil, boundThumbprint: String? = nil)
        async throws -> Result<DPoPProof, DPoPProof.Refusal>?
    {
        let headers = Self.proofHeaders(request)
        if headers.isEmpty, accessToken == nil { return nil }
        let now = clock.now
        // Nonce keys only when nonces are on: otherwise a nonce is never honoured and `iat`
        // decides, so the key ring (an actor) is not asked on every proof.
        let keys = requireNonces ? try await keys.dpopNonceKeys() : []
        let context = DPoPProof.Context(method: request.method.rawValue, uri: uri, accessToken: accessToken,
                                        boundThumbprint: boundThumbprint)
        let proof: DPoPProof
        do {
            proof = try DPoPProof.check(headers: headers, context: context, now: now, freshness: freshness,
                                        requireNonce: requireNonces,
                                        nonceIsValid: { nonces.isValid($0, at: now, keys: keys) })
        } catch {
            return .failure(error)
        }
        let horizon = proof.replayHorizon(freshness, nonceLifetime: nonces.lifetime, now: now)
        guard try await replays.recordProof(key: proof.replayKey, until: horizon, now: now) else { return .failure(.replayed) }
        return .success(proof)
    }

    /// The nonce to send in `DPoP-Nonce` now, when nonces are on.
    func currentNonce() async throws -> String? {
        guard requireNonces, let key = try await keys.dpopNonceKeys().first else { return nil }
        return nonces.issue(at: clock.now, key: key)
    }

    /// At the token endpoint (RFC 9449 §5): the proof, or nil when there is none and the client
    /// may go without (§5.2 `dpop_bound_access_tokens`); a refusal is `invalid_dpop_proof`, or
    /// `use_dpop_nonce` with the nonce to use.
    func tokenRequestProof(_ request: Request, client: OAuthClient, uri: String) async throws -> DPoPProof? {
        switch try await proof(in: request, uri: uri) {
        case .success(let proof)?:
            return proof
        case nil:
            guard !client.requiresDPoP else {
                audit.record("token_request", outcome: "refused_no_dpop", client: client.id)
                throw ErrorAnswer(OAuthError(.invalidDPoPProof, "this client must send a DPoP proof with every token request"))
            }
            return nil
        case .failure(let refusal)?:
            if refusal.wantsNonce {
                throw ErrorAnswer(OAuthError(.useDPoPNonce, refusal.description), dpopNonce: try await currentNonce())
            }
            throw ErrorAnswer(OAuthError(.invalidDPoPProof, refusal.description))
        }
    }
}
