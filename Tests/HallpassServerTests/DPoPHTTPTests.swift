import Foundation
import HallpassCore
import HallpassServer
import Hummingbird
import HummingbirdTesting
import Testing

/// DPoP at the token endpoint, introspection and userinfo (RFC 9449 §5–§8, issue 16).
@Suite struct DPoPHTTPTests {
    static let tokenURI = "http://127.0.0.1:8080/oauth/token"
    static let userinfoURI = "http://127.0.0.1:8080/oauth/userinfo"
    static let deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

    static func proof(_ key: DPoPKey, _ h: Harness, method: String = "POST", uri: String = tokenURI, token: String? = nil,
                      nonce: String? = nil) -> HTTPFields {
        [HTTPFields.Element.Name("DPoP")!: key.proof(method: method, uri: uri, accessToken: token, nonce: nonce, at: h.clock.now)]
    }

    static func claims(_ jwt: String) throws -> [String: Any] {
        let payload = try #require(Base64URL.decode(String(jwt.split(separator: ".")[1])))
        return try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
    }

    /// Device authorization and approval; the device code to redeem.
    static func approved(_ client: any TestClientProtocol, clientID: String = "tv", scope: String = "openid profile read")
        async throws -> String
    {
        var fields = [("client_id", clientID), ("scope", scope)]
        var headers: HTTPFields = [:]
        if clientID == "rs" {
            fields = [("scope", "read")]
            headers = .basic("rs", Harness.confidentialSecret)
        }
        let reply = try await client.form("/oauth/device_authorization", fields, headers: headers)
        let (deviceCode, userCode) = (try #require(reply.string("device_code")), try #require(reply.string("user_code")))
        let decision = try await client.approve(userCode, session: try await client.login())
        #expect(decision.status == .ok, "\(decision.raw)")
        return deviceCode
    }

    /// An approved device grant for tv redeemed with a proof from `key`.
    static func boundTokens(_ client: any TestClientProtocol, _ key: DPoPKey, _ h: Harness) async throws -> Reply {
        let deviceCode = try await approved(client)
        return try await client.form("/oauth/token", [("grant_type", deviceGrant), ("device_code", deviceCode), ("client_id", "tv")],
                                     headers: proof(key, h))
    }

    @Test func aProofAtTheTokenEndpointBindsTheTokensToItsKey() async throws {
        let h = try await Harness()
        let key = DPoPKey.generate()
        try await h.test { client in
            let token = try await Self.boundTokens(client, key, h)
            #expect(token.status == .ok && token.string("token_type") == "DPoP", "\(token.raw)")
            let access = try #require(token.string("access_token"))
            let cnf = try #require(try Self.claims(access)["cnf"] as? [String: String])
            #expect(cnf == ["jkt": key.thumbprint])
            // RFC 9449 §6.2: introspection says DPoP and names the key.
            let seen = try await client.form("/oauth/introspect", [("token", access)], headers: .basic("rs", Harness.confidentialSecret))
            #expect(seen["active"] as? Bool == true && seen.string("token_type") == "DPoP", "\(seen.raw)")
            #expect(seen["cnf"] as? [String: String] == ["jkt": key.thumbprint])

            // A public client's refresh token is bound too: no proof, another key, then the key.
            let refresh = try #require(token.string("refresh_token"))
            let form = [("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", "tv")]
            let bare = try await client.form("/oauth/token", form)
            expectOAuthError(bare, "invalid_dpop_proof", .badRequest)
            let stolen = try await client.form("/oauth/token", form, headers: Self.proof(DPoPKey.generate(.es256), h))
            expectOAuthError(stolen, "invalid_grant", .badRequest)
            let refreshed = try await client.form("/oauth/token", form, headers: Self.proof(key, h))
            #expect(refreshed.status == .ok && refreshed.string("token_type") == "DPoP", "\(refreshed.raw)")
            let next = try #require(refreshed.string("access_token"))
            #expect(try Self.claims(next)["cnf"] as? [String: String] == ["jkt": key.thumbprint])
        }
    }

    /// RFC 9449 §5: tokens first issued without a proof are bound at the first refresh with one,
    /// and from then on the refresh token needs that key.
    @Test func aPublicClientsRefreshWithAProofBindsAnUnboundFamily() async throws {
        let h = try await Harness()
        let key = DPoPKey.generate()
        try await h.test { client in
            let token = try await client.fullFlow()
            #expect(token.string("token_type") == "Bearer")
            let first = try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("client_id", "tv"),
                                                               ("refresh_token", try #require(token.string("refresh_token")))],
                                              headers: Self.proof(key, h))
            #expect(first.status == .ok && first.string("token_type") == "DPoP", "\(first.raw)")
            let form = [("grant_type", "refresh_token"), ("client_id", "tv"), ("refresh_token", try #require(first.string("refresh_token")))]
            expectOAuthError(try await client.form("/oauth/token", form), "invalid_dpop_proof", .badRequest)
            expectOAuthError(try await client.form("/oauth/token", form, headers: Self.proof(DPoPKey.generate(), h)), "invalid_grant", .badRequest)
            #expect(try await client.form("/oauth/token", form, headers: Self.proof(key, h)).status == .ok)
        }
    }

    @Test func proofsAreCheckedOnEveryPollAndAcceptedOnce() async throws {
        let h = try await Harness()
        let key = DPoPKey.generate()
        try await h.test { client in
            let (deviceCode, _) = try await client.deviceAuthorization()
            let form = [("grant_type", Self.deviceGrant), ("device_code", deviceCode), ("client_id", "tv")]
            let proof = Self.proof(key, h)
            expectOAuthError(try await client.form("/oauth/token", form, headers: proof), "authorization_pending", .badRequest)
            h.clock.advance(by: 6)
            let replay = try await client.form("/oauth/token", form, headers: proof)
            expectOAuthError(replay, "invalid_dpop_proof", .badRequest)
            #expect(replay.string("error_description")?.contains("used before") == true, "\(replay.raw)")
            // For another endpoint, too old, two headers: each named.
            let elsewhere = try await client.form("/oauth/token", form, headers: Self.proof(key, h, uri: Self.userinfoURI))
            #expect(elsewhere.string("error_description")?.contains("/oauth/userinfo") == true, "\(elsewhere.raw)")
            var two: HTTPFields = [:]
            two[values: HTTPFields.Element.Name("DPoP")!] = [key.proof(method: "POST", uri: Self.tokenURI, at: h.clock.now),
                                                             key.proof(method: "POST", uri: Self.tokenURI, at: h.clock.now)]
            expectOAuthError(try await client.form("/oauth/token", form, headers: two), "invalid_dpop_proof", .badRequest)
            let old = Self.proof(key, h)
            h.clock.advance(by: 120)
            let stale = try await client.form("/oauth/token", form, headers: old)
            #expect(stale.string("error_description")?.contains("ago") == true, "\(stale.raw)")
        }
    }

    @Test func aConfidentialClientsRefreshTokensStayItsOwn() async throws {
        let h = try await Harness()
        let key = DPoPKey.generate()
        try await h.test { client in
            let deviceCode = try await Self.approved(client, clientID: "rs")
            let token = try await client.form("/oauth/token", [("grant_type", Self.deviceGrant), ("device_code", deviceCode)],
                                              headers: Self.proof(key, h).merging(.basic("rs", Harness.confidentialSecret)))
            #expect(token.string("token_type") == "DPoP", "\(token.raw)")
            let refreshed = try await client.form("/oauth/token", [("grant_type", "refresh_token"),
                                                                   ("refresh_token", try #require(token.string("refresh_token")))],
                                                  headers: .basic("rs", Harness.confidentialSecret))
            // RFC 9449 §5: bound by the client's credentials; without a proof the new access token is Bearer.
            #expect(refreshed.status == .ok && refreshed.string("token_type") == "Bearer", "\(refreshed.raw)")
        }
    }

    @Test func aClientThatRequiresDPoPIsRefusedWithoutAProof() async throws {
        let h = try await Harness()
        try await h.store.addClient(OAuthClient(id: "pi", name: "Pi", secretHash: nil, scopes: ScopeSet(["read"]),
                                                grantTypes: [.deviceCode], requiresDPoP: true))
        try await h.test { client in
            let (deviceCode, _) = try await client.deviceAuthorization(client: "pi", scope: "read")
            let bare = try await client.poll(deviceCode, client: "pi")
            expectOAuthError(bare, "invalid_dpop_proof", .badRequest)
            let proofed = try await client.form("/oauth/token", [("grant_type", Self.deviceGrant), ("device_code", deviceCode),
                                                                 ("client_id", "pi")], headers: Self.proof(DPoPKey.generate(), h))
            expectOAuthError(proofed, "authorization_pending", .badRequest)
        }
    }

    @Test func userinfoWantsTheProofOfABoundToken() async throws {
        let h = try await Harness()
        let key = DPoPKey.generate()
        try await h.test { client in
            let token = try await Self.boundTokens(client, key, h)
            let access = try #require(token.string("access_token"))
            func userinfo(_ scheme: String, _ proof: String?) async throws -> Reply {
                var headers: HTTPFields = [.authorization: "\(scheme) \(access)"]
                if let proof { headers[HTTPFields.Element.Name("DPoP")!] = proof }
                return try await client.raw("/oauth/userinfo", headers: headers)
            }
            let good = key.proof(method: "GET", uri: Self.userinfoURI, accessToken: access, at: h.clock.now)
            let ok = try await userinfo("DPoP", good)
            #expect(ok.status == .ok && ok.string("preferred_username") == "alice", "\(ok.raw)")
            // RFC 9449 §7.2: as a bearer token it is refused, with the DPoP challenge.
            let asBearer = try await userinfo("Bearer", nil)
            expectOAuthError(asBearer, "invalid_token", .unauthorized)
            #expect(asBearer.headers[.wwwAuthenticate]?.hasPrefix("DPoP error=\"invalid_token\"") == true)
            let forgeries: [(String, String?)] = [
                ("replayed", good),
                ("no proof", nil),
                ("another method", key.proof(method: "POST", uri: Self.userinfoURI, accessToken: access, at: h.clock.now)),
                ("another URL", key.proof(method: "GET", uri: Self.tokenURI, accessToken: access, at: h.clock.now)),
                ("too old", key.proof(method: "GET", uri: Self.userinfoURI, accessToken: access, at: h.clock.now - 300)),
                ("another key", DPoPKey.generate().proof(method: "GET", uri: Self.userinfoURI, accessToken: access, at: h.clock.now)),
                ("no ath", key.proof(method: "GET", uri: Self.userinfoURI, at: h.clock.now)),
            ]
            for (name, proof) in forgeries {
                let reply = try await userinfo("DPoP", proof)
                expectOAuthError(reply, "invalid_dpop_proof", .unauthorized)
                #expect(reply.headers[.wwwAuthenticate]?.hasPrefix("DPoP error=\"invalid_dpop_proof\", algs=") == true, "\(name)")
            }
            // An unbound token presented as DPoP is not bound to the proof's key.
            let plain = try await client.fullFlow()
            let unbound = try #require(plain.string("access_token"))
            let reply = try await client.raw("/oauth/userinfo", headers: [
                .authorization: "DPoP \(unbound)",
                HTTPFields.Element.Name("DPoP")!: key.proof(method: "GET", uri: Self.userinfoURI, accessToken: unbound, at: h.clock.now)])
            expectOAuthError(reply, "invalid_dpop_proof", .unauthorized)
            let none = try await client.raw("/oauth/userinfo")
            #expect(none.status == .unauthorized && none.headers[.wwwAuthenticate]?.contains("DPoP algs=") == true)
        }
    }

    @Test func serverNoncesAreAskedForAndRenewedOnEveryAnswer() async throws {
        let h = try await Harness(dpopNonces: true)
        let key = DPoPKey.generate()
        try await h.test { client in
            let (deviceCode, _) = try await client.deviceAuthorization()
            let form = [("grant_type", Self.deviceGrant), ("device_code", deviceCode), ("client_id", "tv")]
            let asked = try await client.form("/oauth/token", form, headers: Self.proof(key, h))
            expectOAuthError(asked, "use_dpop_nonce", .badRequest)
            let nonce = try #require(asked.headers[HTTPFields.Element.Name("DPoP-Nonce")!])
            let pending = try await client.form("/oauth/token", form, headers: Self.proof(key, h, nonce: nonce))
            expectOAuthError(pending, "authorization_pending", .badRequest)
            #expect(pending.headers[HTTPFields.Element.Name("DPoP-Nonce")!] != nil)
            h.clock.advance(by: 200)
            let stale = try await client.form("/oauth/token", form, headers: Self.proof(key, h, nonce: nonce))
            expectOAuthError(stale, "use_dpop_nonce", .badRequest)
            let fresh = try #require(stale.headers[HTTPFields.Element.Name("DPoP-Nonce")!])
            #expect(fresh != nonce)
            // A device whose clock is an hour slow proves freshness by the nonce alone.
            let slow = key.proof(method: "POST", uri: Self.tokenURI, nonce: fresh, at: h.clock.now - 3600)
            let reply = try await client.form("/oauth/token", form, headers: [HTTPFields.Element.Name("DPoP")!: slow])
            expectOAuthError(reply, "authorization_pending", .badRequest)
        }
    }

    @Test func metadataNamesTheProofAlgorithms() async throws {
        let h = try await Harness()
        try await h.test { client in
            let metadata = try await client.raw("/.well-known/oauth-authorization-server")
            #expect(metadata["dpop_signing_alg_values_supported"] as? [String] == ["EdDSA", "Ed25519", "ES256", "PS256", "RS256"])
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        merged.append(contentsOf: other)
        return merged
    }
}
