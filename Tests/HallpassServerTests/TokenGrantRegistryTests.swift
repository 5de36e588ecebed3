import Foundation
import HallpassCore
@testable import HallpassServer
import Hummingbird
import HummingbirdTesting
import Testing

/// The token endpoint dispatches `grant_type` through its registry: a grant is a handler plus
/// one registration, and the endpoint's shared rules (form, client authentication,
/// `unauthorized_client`, `unsupported_grant_type`) hold for every grant.
@Suite struct TokenGrantRegistryTests {
    /// A grant that answers with what it was given.
    struct EchoGrant: TokenGrantHandler {
        var grantType: OAuthClient.GrantType { .refreshToken }
        func exchange(_ request: TokenGrantRequest) async throws -> Response {
            try JSONResponse.make(["client": request.client.id, "peer": request.peer, "thing": try request.form.require("thing")])
        }
    }

    @Test func aRegisteredGrantIsServedAndTheSharedRulesHold() async throws {
        let h = try await Harness()
        let router = Router(context: HallpassRequestContext.self)
        router.add(middleware: OAuthErrorMiddleware())
        TokenEndpoint(grants: TokenGrantRegistry([EchoGrant()]), authenticator: h.server.clientAuthenticator,
                      dpop: h.server.dpopGate, uri: "http://127.0.0.1:8080/oauth/token", clock: h.clock)
            .addRoutes(to: router.group())
        try await Application(router: router).test(.router) { client in
            let echoed = try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("client_id", "tv"), ("thing", "x")])
            #expect(echoed.status == .ok && echoed.string("client") == "tv" && echoed.string("thing") == "x", "\(echoed.raw)")
            // Not registered here, though the client may use it.
            expectOAuthError(try await client.form("/oauth/token", [("grant_type", OAuthClient.GrantType.deviceCode.rawValue),
                                                                    ("client_id", "tv"), ("device_code", "x")]),
                             "unsupported_grant_type", .badRequest)
            // Registered, but the client was not registered for it.
            expectOAuthError(try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("client_id", "kiosk"), ("thing", "x")]),
                             "unauthorized_client", .badRequest)
            expectOAuthError(try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("client_id", "ghost")]),
                             "invalid_client", .unauthorized)
            expectOAuthError(try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("client_id", "tv")]),
                             "invalid_request", .badRequest)
        }
    }

    @Test func metadataListsTheRegisteredGrants() async throws {
        let h = try await Harness()
        #expect(h.server.tokenGrants.grantTypes == [OAuthClient.GrantType.deviceCode.rawValue, "refresh_token", "authorization_code",
                                                   "urn:openid:params:grant-type:ciba"])
        try await h.test { client in
            let meta = try await client.raw("/.well-known/oauth-authorization-server")
            #expect(meta["grant_types_supported"] as? [String] == h.server.tokenGrants.grantTypes)
        }
    }
}
