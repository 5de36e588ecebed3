import Foundation
import HallpassCore
import HallpassServer
import Hummingbird
import HummingbirdTesting
import JWTKit
import Testing

/// Refresh rotation, revocation (RFC 7009), introspection (RFC 7662), userinfo and the JWT
/// access token format (RFC 9068).
@Suite struct TokenLifecycleHTTPTests {
    func refresh(_ client: some TestClientProtocol, _ token: String, scope: String? = nil) async throws -> Reply {
        var fields = [("grant_type", "refresh_token"), ("refresh_token", token), ("client_id", "tv")]
        if let scope { fields.append(("scope", scope)) }
        return try await client.form("/oauth/token", fields)
    }

    @Test func accessTokenIsAnRFC9068JWTThatVerifiesAgainstTheJWKS() async throws {
        let h = try await Harness()
        try await h.test { client in
            let token = try await client.fullFlow()
            let access = try #require(token.string("access_token"))
            let jwks = try await client.raw("/oauth/jwks.json")
            #expect(jwks.status == .ok)
            let keys = JWTKeyCollection()
            try await keys.add(jwksJSON: jwks.raw)
            let claims = try await keys.verify(access, as: AccessTokenClaims.self)
            #expect(claims.iss == "http://127.0.0.1:8080")
            #expect(claims.aud == "http://127.0.0.1:8080")
            #expect(claims.client_id == "tv")
            #expect(claims.scope == "openid profile read")
            #expect(claims.sub == String(h.aliceID))
            #expect(claims.exp - claims.iat == 3600)
            #expect(!claims.jti.isEmpty)
            let header = try #require(Base64URL.decode(String(access.split(separator: ".")[0])))
            let fields = try #require(try JSONSerialization.jsonObject(with: header) as? [String: Any])
            #expect(fields["typ"] as? String == "at+jwt")
            #expect(fields["alg"] as? String == "EdDSA")
            #expect(fields["kid"] as? String != nil)
            let idToken = try #require(token.string("id_token"))
            let id = try await keys.verify(idToken, as: IDTokenClaims.self)
            #expect(id.aud == "tv")
            #expect(id.preferred_username == "alice")
            // OIDC Core §2 / Discovery §3: ID tokens are RS256 unless the client asked otherwise.
            let idHeader = try #require(Base64URL.decode(String(idToken.split(separator: ".")[0])))
            let idFields = try #require(try JSONSerialization.jsonObject(with: idHeader) as? [String: Any])
            #expect(idFields["alg"] as? String == "RS256")
            let rsa = try #require((jwks["keys"] as? [[String: Any]])?.first { $0["kty"] as? String == "RSA" })
            #expect(idFields["kid"] as? String == rsa["kid"] as? String)
            #expect(rsa["alg"] as? String == "RS256" && rsa["e"] as? String == "AQAB")
            #expect((rsa["n"] as? String).flatMap(Base64URL.decode)?.count == 256)
        }
    }

    @Test func aClientMayAskForAnotherIDTokenAlgorithm() async throws {
        let h = try await Harness()
        try await h.store.addClient(OAuthClient(id: "edtv", name: "EdDSA TV", secretHash: nil, scopes: ScopeSet(["openid", "read"]),
                                                grantTypes: [.deviceCode], idTokenSigningAlgorithm: "EdDSA"))
        try await h.store.addClient(OAuthClient(id: "ectv", name: "ES256 TV", secretHash: nil, scopes: ScopeSet(["openid", "read"]),
                                                grantTypes: [.deviceCode], idTokenSigningAlgorithm: "ES256"))
        try await h.test { client in
            func idAlgorithm(_ id: String) async throws -> String? {
                let token = try await client.fullFlow(client: id, scope: "openid read")
                let idToken = try #require(token.string("id_token"))
                let header = try #require(Base64URL.decode(String(idToken.split(separator: ".")[0])))
                let keys = JWTKeyCollection()
                try await keys.add(jwksJSON: try await client.raw("/oauth/jwks.json").raw)
                #expect(try await keys.verify(idToken, as: IDTokenClaims.self).aud == id)
                return try #require(try JSONSerialization.jsonObject(with: header) as? [String: Any])["alg"] as? String
            }
            #expect(try await idAlgorithm("edtv") == "EdDSA")
            // No ES256 key is active: RS256, which every relying party must accept (OIDC Core §15.1).
            #expect(try await idAlgorithm("ectv") == "RS256")
            try await h.store.addActiveKey(try KeyRing.generate(.es256, at: h.clock.now), at: h.clock.now)
            h.clock.advance(by: 10)
            #expect(try await idAlgorithm("ectv") == "ES256")
        }
    }

    @Test func refreshRotatesAndReuseRevokesTheFamily() async throws {
        let h = try await Harness()
        try await h.test { client in
            let first = try await client.fullFlow()
            let r1 = try #require(first.string("refresh_token"))
            let second = try await refresh(client, r1)
            #expect(second.status == .ok, "\(second.raw)")
            let r2 = try #require(second.string("refresh_token"))
            #expect(r2 != r1)
            #expect(second.string("scope") == "openid profile read")
            // r1 comes back: a copy is loose. The whole family dies, r2 included.
            expectOAuthError(try await refresh(client, r1), "invalid_grant", .badRequest)
            expectOAuthError(try await refresh(client, r2), "invalid_grant", .badRequest)
            let introspected = try await client.form("/oauth/introspect", [("token", try #require(second.string("access_token")))],
                                                     headers: .basic("rs", Harness.confidentialSecret))
            #expect(introspected.raw == #"{"active":false}"#)
        }
    }

    @Test func refreshMayOnlyNarrowScope() async throws {
        let h = try await Harness()
        try await h.test { client in
            let first = try await client.fullFlow(scope: "openid read")
            let narrowed = try await refresh(client, try #require(first.string("refresh_token")), scope: "read")
            #expect(narrowed.string("scope") == "read")
            // Back to the full original grant is allowed (RFC 6749 §6), wider is not.
            let widened = try await refresh(client, try #require(narrowed.string("refresh_token")), scope: "read write")
            expectOAuthError(widened, "invalid_scope", .badRequest)
            let restored = try await refresh(client, try #require(narrowed.string("refresh_token")), scope: "openid read")
            #expect(restored.status == .ok)
        }
    }

    @Test func refreshByAnotherClientOrUnknownTokenIsInvalidGrant() async throws {
        let h = try await Harness()
        try await h.test { client in
            let first = try await client.fullFlow()
            let r1 = try #require(first.string("refresh_token"))
            let foreign = try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", r1), ("client_id", "refresher")])
            expectOAuthError(foreign, "invalid_grant", .badRequest)
            expectOAuthError(try await refresh(client, "rt_nonsense"), "invalid_grant", .badRequest)
            #expect(try await refresh(client, r1).status == .ok)  // the foreign attempt did not burn it
        }
    }

    @Test func expiredRefreshTokenIsInvalidGrant() async throws {
        let h = try await Harness()
        try await h.test { client in
            let first = try await client.fullFlow()
            h.clock.advance(by: 31 * 86400)
            expectOAuthError(try await refresh(client, try #require(first.string("refresh_token"))), "invalid_grant", .badRequest)
        }
    }

    @Test func revokingARefreshTokenRevokesItsAccessTokens() async throws {
        let h = try await Harness()
        try await h.test { client in
            let token = try await client.fullFlow()
            let revoke = try await client.form("/oauth/revoke", [("token", try #require(token.string("refresh_token"))), ("client_id", "tv")])
            #expect(revoke.status == .ok)
            #expect(revoke.raw.isEmpty)
            expectOAuthError(try await refresh(client, try #require(token.string("refresh_token"))), "invalid_grant", .badRequest)
            let userinfo = try await client.raw("/oauth/userinfo", headers: [.authorization: "Bearer \(try #require(token.string("access_token")))"])
            expectOAuthError(userinfo, "invalid_token", .unauthorized)
        }
    }

    @Test func revokingAnAccessTokenAndUnknownTokens() async throws {
        let h = try await Harness()
        try await h.test { client in
            let token = try await client.fullFlow()
            let access = try #require(token.string("access_token"))
            // Introspected while live: its verified signature is now remembered (VerifiedTokenCache) …
            for _ in 0..<2 {
                let live = try await client.form("/oauth/introspect", [("token", access)], headers: .basic("rs", Harness.confidentialSecret))
                #expect(live["active"] as? Bool == true, "\(live.raw)")
            }
            #expect(try await client.form("/oauth/revoke", [("token", access), ("token_type_hint", "access_token"), ("client_id", "tv")]).status == .ok)
            // … and revocation still bites on the next call: only the signature is remembered.
            let introspected = try await client.form("/oauth/introspect", [("token", access)], headers: .basic("rs", Harness.confidentialSecret))
            #expect(introspected.raw == #"{"active":false}"#)
            // RFC 7009 §2.2: unknown tokens are not an error.
            #expect(try await client.form("/oauth/revoke", [("token", "whatever"), ("client_id", "tv")]).status == .ok)
            // The refresh token still works: only the access token was revoked.
            let refreshed = try await refresh(client, try #require(token.string("refresh_token")))
            #expect(refreshed.status == .ok)
        }
    }

    @Test func anotherClientCannotRevokeYourTokens() async throws {
        let h = try await Harness()
        try await h.test { client in
            let token = try await client.fullFlow()
            let r = try #require(token.string("refresh_token"))
            #expect(try await client.form("/oauth/revoke", [("token", r), ("client_id", "kiosk")]).status == .ok)
            #expect(try await refresh(client, r).status == .ok)
        }
    }

    @Test func introspectionOfActiveTokens() async throws {
        let h = try await Harness()
        try await h.test { client in
            let token = try await client.fullFlow()
            let access = try await client.form("/oauth/introspect", [("token", try #require(token.string("access_token")))],
                                               headers: .basic("rs", Harness.confidentialSecret))
            #expect(access.status == .ok)
            #expect(access["active"] as? Bool == true)
            #expect(access.string("client_id") == "tv")
            #expect(access.string("scope") == "openid profile read")
            #expect(access.string("username") == "alice")
            #expect(access.string("token_type") == "Bearer")
            #expect(access.headers[.cacheControl] == "no-store")
            let refresh = try await client.form("/oauth/introspect", [("token", try #require(token.string("refresh_token"))),
                                                                      ("client_id", "rs"), ("client_secret", Harness.confidentialSecret)])
            #expect(refresh["active"] as? Bool == true)
            #expect(refresh.string("token_type") == "refresh_token")
        }
    }

    @Test func introspectionSaysOnlyInactiveForUnknownExpiredOrRevoked() async throws {
        let h = try await Harness()
        try await h.test { client in
            let auth = HTTPFields.basic("rs", Harness.confidentialSecret)
            for junk in ["nope", "a.b.c", "eyJhbGciOiJub25lIn0.eyJqdGkiOiJ4In0."] {
                #expect(try await client.form("/oauth/introspect", [("token", junk)], headers: auth).raw == #"{"active":false}"#)
            }
            let token = try await client.fullFlow()
            h.clock.advance(by: 3601)
            #expect(try await client.form("/oauth/introspect", [("token", try #require(token.string("access_token")))], headers: auth).raw == #"{"active":false}"#)
        }
    }

    @Test func onlyConfidentialIntrospectorsMayIntrospect() async throws {
        let h = try await Harness()
        try await h.test { client in
            let token = try await client.fullFlow()
            let access = try #require(token.string("access_token"))
            expectOAuthError(try await client.form("/oauth/introspect", [("token", access), ("client_id", "tv")]), "invalid_client", .unauthorized)
            expectOAuthError(try await client.form("/oauth/introspect", [("token", access)], headers: .basic("backend", Harness.confidentialSecret)),
                             "invalid_client", .unauthorized)
            let wrong = try await client.form("/oauth/introspect", [("token", access)], headers: .basic("rs", "wrong-secret"))
            expectOAuthError(wrong, "invalid_client", .unauthorized)
            #expect(wrong.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
        }
    }

    @Test func userinfoNeedsOpenIDScope() async throws {
        let h = try await Harness()
        try await h.test { client in
            let token = try await client.fullFlow()
            let info = try await client.raw("/oauth/userinfo", headers: [.authorization: "Bearer \(try #require(token.string("access_token")))"])
            #expect(info.status == .ok)
            #expect(info.string("sub") == String(h.aliceID))
            #expect(info.string("preferred_username") == "alice")
            let readOnly = try await client.fullFlow(scope: "read")
            let denied = try await client.raw("/oauth/userinfo", headers: [.authorization: "Bearer \(try #require(readOnly.string("access_token")))"])
            expectOAuthError(denied, "insufficient_scope", .forbidden)
            let none = try await client.raw("/oauth/userinfo")
            #expect(none.status == .unauthorized)
            #expect(none.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
        }
    }

    @Test func keyRotationKeepsOldTokensVerifiable() async throws {
        let h = try await Harness()
        try await h.test { client in
            let before = try #require(try await client.fullFlow().string("access_token"))
            try await h.store.addActiveKey(try KeyRing.generate(.es256, at: h.clock.now), at: h.clock.now)
            h.clock.advance(by: 10)  // past the key ring's reload interval
            let after = try #require(try await client.fullFlow().string("access_token"))
            let jwks = try await client.raw("/oauth/jwks.json")
            #expect((jwks["keys"] as? [Any])?.count == 3)  // old and new access-token keys, the RSA ID-token key
            let keys = JWTKeyCollection()
            try await keys.add(jwksJSON: jwks.raw)
            #expect(try await keys.verify(before, as: AccessTokenClaims.self).client_id == "tv")
            #expect(try await keys.verify(after, as: AccessTokenClaims.self).client_id == "tv")
            let header = try #require(Base64URL.decode(String(after.split(separator: ".")[0])))
            #expect(String(decoding: header, as: UTF8.self).contains("ES256"))
            // Once every token the old key signed has expired, it leaves the JWKS; rotating the
            // access-token key left the ID-token key alone.
            h.clock.advance(by: 3600 + 301)
            let later = try await client.raw("/oauth/jwks.json")["keys"] as? [[String: Any]]
            #expect(later?.compactMap { $0["alg"] as? String }.sorted() == ["ES256", "RS256"])
            try await h.store.addActiveKey(try KeyRing.generate(.rs256, at: h.clock.now), at: h.clock.now)
            h.clock.advance(by: 10)
            let idToken = try #require(try await client.fullFlow().string("id_token"))
            let rotated = try await client.raw("/oauth/jwks.json")
            #expect((rotated["keys"] as? [Any])?.count == 3)  // ES256, old and new RSA
            let keys2 = JWTKeyCollection()
            try await keys2.add(jwksJSON: rotated.raw)
            #expect(try await keys2.verify(idToken, as: IDTokenClaims.self).aud == "tv")
            #expect(try await keys2.verify(after, as: AccessTokenClaims.self).client_id == "tv")
        }
    }
}
