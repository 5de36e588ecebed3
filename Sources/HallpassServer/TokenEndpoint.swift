import Foundation
import HallpassCore
import Hummingbird

/// `POST /oauth/token` (RFC 6749 §3.2, §5): reads the form, authenticates the client, checks it
/// may use the `grant_type`, and hands the request to that grant's handler (`Grants/`).
struct TokenEndpoint {
    let grants: TokenGrantRegistry
    let authenticator: ClientAuthenticator
    let dpop: DPoPGate
    /// This endpoint's URL as clients are told it (metadata), what a DPoP proof's `htu` names.
    let uri: String
    let clock: any WallClock

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
        guard let handler = grants.handler(for: grantType) else {
            throw OAuthError(.unsupportedGrantType, "grant_type \(FormBody.quoted(grantType)) is not supported")
        }
        let client = try await authenticator.authenticate(request, form: form)
        // RFC 6749 §5.2 unauthorized_client: registered without this grant type.
        guard client.grantTypes.contains(handler.grantType) else {
            throw OAuthError(.unauthorizedClient, "this client may not use grant_type \(grantType)")
        }
        // RFC 9449 §5: the proof is checked before the grant is touched, so a bad one costs nothing.
        let proof = try await dpop.tokenRequestProof(request, client: client, uri: uri)
        let exchange = TokenGrantRequest(form: form, client: client, peer: context.clientIP, now: clock.now, dpop: proof)
        // §8.2: a fresh nonce with every answer to a proof, `authorization_pending` included, so a
        // device that polls for minutes never has to be refused to learn the next one.
        guard proof != nil, let nonce = try await dpop.currentNonce() else { return try await handler.exchange(exchange) }
        do {
            var response = try await handler.exchange(exchange)
            response.headers[HTTPFields.dpopNonceName] = nonce
            return response
        } catch let error as OAuthError {
            throw ErrorAnswer(error, dpopNonce: nonce)
        } catch var answer as ErrorAnswer {
            answer.dpopNonce = nonce
            throw answer
        }
    }
}
