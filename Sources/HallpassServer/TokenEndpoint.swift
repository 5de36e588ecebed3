import Foundation
import HallpassCore
import Hummingbird

/// `POST /oauth/token` (RFC 6749 §3.2, §5): reads the form, authenticates the client, checks it
/// may use the `grant_type`, and hands the request to that grant's handler (`Grants/`).
struct TokenEndpoint {
    let grants: TokenGrantRegistry
    let authenticator: ClientAuthenticator
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
        return try await handler.exchange(TokenGrantRequest(form: form, client: client, peer: context.clientIP, now: clock.now))
    }
}
