import Foundation
import HallpassCore
@testable import HallpassServer
import HummingbirdTesting
import HTTPTypes
import JWTKit
import Testing

/// The authorization code grant over HTTP (issue 15): the endpoint's pages and redirects, the
/// waiting page's answers, and the token endpoint's bindings, with the server's clock in hand.
@Suite struct AuthorizationCodeHTTPTests {
    static let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"       // RFC 7636 Appendix B
    static let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    static let callback = "https://app.example/cb"

    func harness() async throws -> Harness {
        let h = try await Harness()
        try await h.store.addClient(OAuthClient(
            id: "webapp", name: "<i>Wiki</i>", secretHash: nil, scopes: ScopeSet(["openid", "read"]),
            grantTypes: [.authorizationCode, .refreshToken], redirectURIs: [try RedirectURI(registering: Self.callback)]))
        return h
    }

    static func query(_ location: String?) -> [String: String] {
        let items = URLComponents(string: location ?? "")?.queryItems ?? []
        return Dictionary(items.map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { first, _ in first })
    }

    func authorizeURL(_ extra: String = "") -> String {
        "/oauth/authorize?response_type=code&client_id=webapp&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&state=s%26t"
            + "&scope=openid%20read&nonce=n-1&code_challenge=\(Self.challenge)&code_challenge_method=S256" + extra
    }

    /// authorize → page: (page path, user code).
    func begin(_ client: any TestClientProtocol) async throws -> (page: String, userCode: String) {
        let start = try await client.raw(authorizeURL())
        #expect(start.status == .seeOther)
        let location = try #require(start.headers[.location])
        let page = String(location.dropFirst("http://127.0.0.1:8080".count))
        let shown = try await client.raw(page)
        #expect(shown.status == .ok)
        let code = try #require(shown.raw.firstMatch(of: /[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}/)).output
        return (page, String(code))
    }

    func redeem(_ client: any TestClientProtocol, code: String, verifier: String? = Self.verifier, clientID: String = "webapp",
                redirect: String? = Self.callback, headers: HTTPFields = [:]) async throws -> Reply {
        var fields = [("grant_type", "authorization_code"), ("code", code), ("client_id", clientID)]
        if let verifier { fields.append(("code_verifier", verifier)) }
        if let redirect { fields.append(("redirect_uri", redirect)) }
        return try await client.form("/oauth/token", fields, headers: headers)
    }

    /// RFC 9449 §5 for this grant too: a proof at the code exchange binds the access token and
    /// the public client's refresh token to the key.
    @Test func aProofAtTheCodeExchangeBindsTheTokens() async throws {
        let h = try await harness()
        let key = DPoPKey.generate(.es256)
        try await h.test { client in
            let (page, userCode) = try await begin(client)
            #expect(try await client.approve(userCode, session: try await client.login()).status == .ok)
            let code = try #require(Self.query(try await client.raw(page).headers[.location])["code"])
            let token = try await redeem(client, code: code, headers: DPoPHTTPTests.proof(key, h))
            #expect(token.status == .ok && token.string("token_type") == "DPoP", "\(token.raw)")
            let access = try #require(token.string("access_token"))
            #expect(try DPoPHTTPTests.claims(access)["cnf"] as? [String: String] == ["jkt": key.thumbprint])
            let refresh = [("grant_type", "refresh_token"), ("refresh_token", try #require(token.string("refresh_token"))),
                           ("client_id", "webapp")]
            expectOAuthError(try await client.form("/oauth/token", refresh), "invalid_dpop_proof", .badRequest)
            #expect(try await client.form("/oauth/token", refresh, headers: DPoPHTTPTests.proof(key, h)).status == .ok)
        }
    }

    @Test func theWholeFlowAndTheCodesBindings() async throws {
        let h = try await harness()
        try await h.test { client in
            let (page, userCode) = try await begin(client)
            let pending = try await client.raw(page)
            #expect(pending.raw.contains("&lt;i&gt;Wiki&lt;/i&gt;") && !pending.raw.contains("<i>Wiki"))
            #expect(pending.headers[.contentSecurityPolicy]?.contains("frame-ancestors 'none'") == true)
            #expect(pending.headers[.cacheControl] == "no-store")
            let session = try await client.login()
            let decision = try await client.approve(userCode, session: session)
            #expect(decision.status == .ok)
            let back = try await client.raw(page)
            #expect(back.status == .seeOther)
            let answer = Self.query(back.headers[.location])
            #expect(back.headers[.location]?.hasPrefix(Self.callback + "?code=") == true)
            #expect(answer["state"] == "s&t" && answer["iss"] == "http://127.0.0.1:8080")
            let code = try #require(answer["code"])

            // Bindings: another client, another redirect URI, a wrong or missing verifier.
            let tv = try await redeem(client, code: code, clientID: "tv")
            expectOAuthError(tv, "unauthorized_client", .badRequest)
            try await h.store.addClient(OAuthClient(id: "other", name: "Other", secretHash: nil, scopes: ScopeSet(["read"]),
                                                    grantTypes: [.authorizationCode],
                                                    redirectURIs: [try RedirectURI(registering: Self.callback)]))
            expectOAuthError(try await redeem(client, code: code, clientID: "other"), "invalid_grant", .badRequest)
            expectOAuthError(try await redeem(client, code: code, redirect: "https://app.example/cb2"), "invalid_grant", .badRequest)
            expectOAuthError(try await redeem(client, code: code, redirect: nil), "invalid_request", .badRequest)
            expectOAuthError(try await redeem(client, code: code, verifier: String(repeating: "a", count: 43)), "invalid_grant", .badRequest)
            expectOAuthError(try await redeem(client, code: code, verifier: nil), "invalid_request", .badRequest)

            let token = try await redeem(client, code: code)
            #expect(token.status == .ok, "\(token.raw)")
            let idToken = try #require(token.string("id_token"))
            let payload = try #require(Base64URL.decode(String(idToken.split(separator: ".")[1])))
            let claims = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
            #expect(claims["nonce"] as? String == "n-1" && claims["aud"] as? String == "webapp")
            #expect(claims["at_hash"] as? String == TokenMinter.halfHash(try #require(token.string("access_token")), algorithm: .rs256))

            // The page now says the sign-in is complete rather than sending the code again.
            let done = try await client.raw(page)
            #expect(done.status == .ok && done.raw.contains("complete"))

            // Replay: refused, and what the first use got is revoked.
            expectOAuthError(try await redeem(client, code: code), "invalid_grant", .badRequest)
            let userinfo = try await client.raw("/oauth/userinfo", headers: [.authorization: "Bearer " + (token.string("access_token") ?? "")])
            #expect(userinfo.status == .unauthorized)
            let refresh = try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("client_id", "webapp"),
                                                                  ("refresh_token", token.string("refresh_token") ?? "")])
            expectOAuthError(refresh, "invalid_grant", .badRequest)
        }
    }

    @Test func aCodeLivesAMinuteAfterTheApproval() async throws {
        let h = try await harness()
        try await h.test { client in
            let (page, userCode) = try await begin(client)
            let session = try await client.login()
            _ = try await client.approve(userCode, session: session)
            let code = try #require(Self.query(try await client.raw(page).headers[.location])["code"])
            h.clock.advance(by: 61)
            expectOAuthError(try await redeem(client, code: code), "invalid_grant", .badRequest)
            let expired = try await client.raw(page)
            #expect(expired.status == .ok && expired.raw.contains("expired") && expired.headers[.location] == nil)
        }
    }

    @Test func aDenialGoesBackAsAccessDeniedAndTheRequestStaysDecided() async throws {
        let h = try await harness()
        try await h.test { client in
            let (page, userCode) = try await begin(client)
            let session = try await client.login()
            let denied = try await client.json("/consent/deny", ["user_code": userCode], bearer: session)
            #expect(denied.status == .ok)
            let answer = Self.query(try await client.raw(page).headers[.location])
            #expect(answer["error"] == "access_denied" && answer["state"] == "s&t" && answer["iss"] != nil)
            let again = try await client.approve(userCode, session: session)
            #expect(again.status != .ok)
        }
    }

    @Test func theConsentAPIShowsABrowserSignIn() async throws {
        let h = try await harness()
        try await h.test { client in
            let (_, userCode) = try await begin(client)
            let session = try await client.login()
            let lookup = try await client.json("/consent/lookup", ["user_code": userCode], bearer: session)
            #expect(lookup.status == .ok, "\(lookup.raw)")
            let web = lookup.body["web_sign_in"] as? [String: Any]
            #expect(web?["redirect_host"] as? String == "app.example")
        }
    }

    @Test func errorsThatMustNotRedirectAndErrorsThatMust() async throws {
        let h = try await harness()
        try await h.test { client in
            for path in ["/oauth/authorize?client_id=ghost&response_type=code",
                         "/oauth/authorize?client_id=webapp&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
                         "/oauth/authorize?client_id=tv&response_type=code",
                         "/oauth/authorize?client_id=webapp&client_id=webapp",
                         "/oauth/authorize?client_id=%zz"] {
                let reply = try await client.raw(path)
                #expect(reply.status == .badRequest, "\(path)")
                #expect(reply.headers[.location] == nil && reply.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            let plain = try await client.raw(authorizeURL().replacingOccurrences(of: "S256", with: "plain"))
            #expect(plain.status == .seeOther)
            let answer = Self.query(plain.headers[.location])
            #expect(answer["error"] == "invalid_request" && answer["state"] == "s&t" && answer["iss"] == "http://127.0.0.1:8080")
            let unknownPage = try await client.raw("/oauth/authorize/request/" + String(repeating: "A", count: 43))
            #expect(unknownPage.status == .notFound)
            let posted = try await client.raw("/oauth/authorize", method: .post, body: String(authorizeURL().dropFirst("/oauth/authorize?".count)),
                                              contentType: "application/x-www-form-urlencoded")
            #expect(posted.status == .seeOther && posted.headers[.location]?.contains("/oauth/authorize/request/") == true)
        }
    }

    @Test func headAnswersLikeGetWithoutABodyAndNeverBeginsASignIn() async throws {
        let h = try await harness()
        try await h.test { client in
            let (page, _) = try await begin(client)
            let head = try await client.raw(page, method: .head)
            #expect(head.status == .ok && head.raw.isEmpty && head.headers[.contentSecurityPolicy] != nil)
            let script = try await client.raw("/oauth/authorize/page.js", method: .head)
            #expect(script.status == .ok && script.raw.isEmpty && script.headers[.contentLength] != nil)
            for method in [HTTPRequest.Method.head, .put, .delete] {
                let refused = try await client.raw(authorizeURL(), method: method)
                #expect(refused.status == .methodNotAllowed && refused.headers[.allow] == "GET, POST", "\(method)")
            }
        }
    }

    @Test func metadataAdvertisesTheGrant() async throws {
        let h = try await harness()
        try await h.test { client in
            for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
                let meta = try await client.raw(path)
                #expect(meta.string("authorization_endpoint") == "http://127.0.0.1:8080/oauth/authorize")
                #expect(meta.body["response_types_supported"] as? [String] == ["code"])
                #expect(meta.body["response_modes_supported"] as? [String] == ["query"])
                #expect(meta.body["code_challenge_methods_supported"] as? [String] == ["S256"])
                #expect(meta.body["authorization_response_iss_parameter_supported"] as? Bool == true)
                #expect((meta.body["grant_types_supported"] as? [String])?.contains("authorization_code") == true)
            }
            let oidc = try await client.raw("/.well-known/openid-configuration")
            #expect(oidc.body["request_parameter_supported"] as? Bool == false)
            #expect(oidc.body["request_uri_parameter_supported"] as? Bool == false)
            #expect((oidc.body["scopes_supported"] as? [String])?.contains("openid") == true)
        }
    }
}
