import Foundation
import HallpassCore
import HallpassServer
import Hummingbird
import HummingbirdTesting
import Testing

/// The consent API (ARCHITECTURE.md §4.4): sessions, lookups, decisions and the guess budgets.
@Suite struct ConsentHTTPTests {
    @Test func lookupShowsWhatThePersonMustSee() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (_, userCode) = try await client.deviceAuthorization(scope: "openid read")
            h.clock.advance(by: 30)
            let session = try await client.login()
            let reply = try await client.json("/consent/lookup", ["user_code": userCode.lowercased().replacingOccurrences(of: "-", with: " ")], bearer: session)
            #expect(reply.status == .ok, "\(reply.raw)")
            #expect(reply.string("client_id") == "tv")
            #expect(reply.string("client_name") == "Living-room TV")
            #expect(reply.string("user_code") == userCode)
            #expect(reply["requested_seconds_ago"] as? Int == 30)
            #expect(reply["expires_in"] as? Int == 570)
            #expect(reply.string("device_ip") != nil)
            let scopes = try #require(reply["scopes"] as? [[String: String]])
            #expect(scopes == [["name": "openid", "description": "Confirm who you are"], ["name": "read", "description": "Read your data"]])
        }
    }

    @Test func everyConsentCallNeedsASession() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (_, userCode) = try await client.deviceAuthorization()
            expectOAuthError(try await client.json("/consent/lookup", ["user_code": userCode]), "login_required", .unauthorized)
            expectOAuthError(try await client.json("/consent/approve", ["user_code": userCode], bearer: "cs_forged"), "login_required", .unauthorized)
            let session = try await client.login()
            h.clock.advance(by: 15 * 60 + 1)
            expectOAuthError(try await client.json("/consent/deny", ["user_code": userCode], bearer: session), "login_required", .unauthorized)
        }
    }

    @Test func logoutEndsTheSessionAndDisablingEndsItToo() async throws {
        let h = try await Harness()
        try await h.test { client in
            let session = try await client.login()
            #expect(try await client.raw("/consent/session", headers: [.authorization: "Bearer \(session)"]).status == .ok)
            _ = try await client.json("/consent/logout", [:], bearer: session)
            #expect(try await client.raw("/consent/session", headers: [.authorization: "Bearer \(session)"]).status == .unauthorized)
            let second = try await client.login("bob", "bob's password")
            #expect(try await h.store.setDisabled(name: "bob", true))
            #expect(try await client.raw("/consent/session", headers: [.authorization: "Bearer \(second)"]).status == .unauthorized)
            expectOAuthError(try await client.json("/consent/login", ["username": "bob", "password": "bob's password"]), "access_denied", .unauthorized)
        }
    }

    @Test func wrongPasswordsAreLimitedPerUserName() async throws {
        let h = try await Harness()
        try await h.test { client in
            for _ in 0..<5 {
                let reply = try await client.json("/consent/login", ["username": "alice", "password": "guess"])
                expectOAuthError(reply, "access_denied", .unauthorized)
                #expect(reply.string("error_description") == "wrong user name or password")
            }
            // Locked: even the right password waits, and the answer says for how long.
            let locked = try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword])
            expectOAuthError(locked, "too_many_attempts", .tooManyRequests)
            #expect(Int(locked.headers[.retryAfter] ?? "") ?? 0 > 0)
            // The body says it too, for terminal fronts that show a countdown.
            #expect(locked.body["retry_after"] as? Int == Int(locked.headers[.retryAfter] ?? ""))
            // Unknown names get the very same answer as wrong passwords.
            expectOAuthError(try await client.json("/consent/login", ["username": "mallory", "password": "x"]), "access_denied", .unauthorized)
            h.clock.advance(by: 15 * 60)
            #expect(try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword]).status == .ok)
        }
    }

    @Test func wrongCodesCountDownThenLockTheSession() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (_, userCode) = try await client.deviceAuthorization()
            let session = try await client.login()
            for left in (0..<5).reversed() {
                let reply = try await client.json("/consent/lookup", ["user_code": "ZZZZ-ZZZZ"], bearer: session)
                expectOAuthError(reply, "invalid_grant", .badRequest)
                #expect(reply["guesses_left"] as? Int == left)
                #expect(reply.string("error_description")?.hasPrefix("invalid or expired code") == true)
            }
            // The budget is shared by lookup, approve and deny: the right code is refused now too.
            let blocked = try await client.approve(userCode, session: session)
            expectOAuthError(blocked, "too_many_attempts", .tooManyRequests)
            #expect(blocked["guesses_left"] as? Int == 0)
        }
    }

    @Test func aNewSessionDoesNotResetTheUserAndAddressBudgets() async throws {
        let h = try await Harness()
        _ = try await h.store.addUser(name: "carol", passwordHash: PasswordHasher.hash("carol's password"))
        try await h.test { client in
            func spend(_ user: String, _ password: String) async throws {
                let session = try await client.login(user, password)
                for _ in 0..<5 {
                    expectOAuthError(try await client.json("/consent/lookup", ["user_code": "ZZZZ-ZZZZ"], bearer: session), "invalid_grant", .badRequest)
                }
            }
            try await spend("alice", Harness.alicePassword)
            try await spend("alice", Harness.alicePassword)
            // alice has spent her 10 per user: a fresh session does not help her.
            let third = try await client.login()
            expectOAuthError(try await client.json("/consent/lookup", ["user_code": "ZZZZ-ZZZZ"], bearer: third), "too_many_attempts", .tooManyRequests)
            try await spend("bob", "bob's password")
            try await spend("bob", "bob's password")
            // 20 failures from one address: a fresh user there is refused too.
            let carol = try await client.login("carol", "carol's password")
            expectOAuthError(try await client.json("/consent/lookup", ["user_code": "ZZZZ-ZZZZ"], bearer: carol), "too_many_attempts", .tooManyRequests)
        }
    }

    @Test func nearMissesWithdrawALiveCode() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (deviceCode, userCode) = try await client.deviceAuthorization()
            let letters = Array(userCode.replacingOccurrences(of: "-", with: ""))
            let alphabet = Array("BCDFGHJKLMNPQRSTVWXZ").filter { $0 != letters[7] }
            // Five sessions of different users each try one neighbour of the real code.
            for i in 0..<5 {
                let session = try await client.login(i % 2 == 0 ? "alice" : "bob", i % 2 == 0 ? Harness.alicePassword : "bob's password")
                let guess = String(letters.prefix(7)) + String(alphabet[i])
                expectOAuthError(try await client.json("/consent/lookup", ["user_code": guess], bearer: session), "invalid_grant", .badRequest)
            }
            h.clock.advance(by: 15 * 60)
            let session = try await client.login()
            expectOAuthError(try await client.json("/consent/lookup", ["user_code": userCode], bearer: session), "invalid_grant", .badRequest)
            expectOAuthError(try await client.poll(deviceCode), "expired_token", .badRequest)
        }
    }

    @Test func malformedCodesAreRejectedWithoutSpendingAGuess() async throws {
        let h = try await Harness()
        try await h.test { client in
            let session = try await client.login()
            for _ in 0..<8 {
                let reply = try await client.json("/consent/lookup", ["user_code": "AEIO-0123"], bearer: session)
                expectOAuthError(reply, "invalid_request", .badRequest)
            }
            let (_, userCode) = try await client.deviceAuthorization()
            #expect(try await client.json("/consent/lookup", ["user_code": userCode], bearer: session).status == .ok)
        }
    }

    @Test func approveRejectsScopesThatWereNotRequested() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (_, userCode) = try await client.deviceAuthorization(scope: "read")
            let session = try await client.login()
            expectOAuthError(try await client.approve(userCode, scope: "read write", session: session), "invalid_scope", .badRequest)
            expectOAuthError(try await client.approve(userCode, scope: " ", session: session), "invalid_scope", .badRequest)
            #expect(try await client.approve(userCode, scope: "read", session: session).status == .ok)
        }
    }

    @Test func aGrantIsDecidedOnce() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (_, userCode) = try await client.deviceAuthorization()
            let session = try await client.login()
            #expect(try await client.approve(userCode, session: session).status == .ok)
            expectOAuthError(try await client.json("/consent/deny", ["user_code": userCode], bearer: session), "invalid_grant", .badRequest)
        }
    }
}

@Suite struct DiscoveryHTTPTests {
    @Test func metadataNamesEveryEndpoint() async throws {
        let h = try await Harness()
        try await h.test { client in
            let meta = try await client.raw("/.well-known/oauth-authorization-server")
            #expect(meta.status == .ok)
            #expect(meta.string("issuer") == "http://127.0.0.1:8080")
            #expect(meta.string("device_authorization_endpoint") == "http://127.0.0.1:8080/oauth/device_authorization")
            #expect(meta.string("token_endpoint") == "http://127.0.0.1:8080/oauth/token")
            #expect(meta.string("jwks_uri") == "http://127.0.0.1:8080/oauth/jwks.json")
            #expect((meta["grant_types_supported"] as? [String])?.contains("urn:ietf:params:oauth:grant-type:device_code") == true)
            let oidc = try await client.raw("/.well-known/openid-configuration")
            #expect(oidc.string("userinfo_endpoint") == "http://127.0.0.1:8080/oauth/userinfo")
            #expect(oidc["id_token_signing_alg_values_supported"] as? [String] == ["RS256", "EdDSA"])
        }
    }

    @Test func issuerWithAPathMountsEverythingBelowIt() async throws {
        let h = try await Harness(issuer: "https://auth.example:8443/t/acme")
        try await h.test { client in
            // RFC 8414 §3.1: the well-known segment goes between host and path …
            let inserted = try await client.raw("/.well-known/oauth-authorization-server/t/acme")
            #expect(inserted.string("issuer") == "https://auth.example:8443/t/acme")
            #expect(inserted.string("token_endpoint") == "https://auth.example:8443/t/acme/oauth/token")
            // … and OpenID discovery appends it to the issuer.
            #expect(try await client.raw("/t/acme/.well-known/openid-configuration").string("issuer") == "https://auth.example:8443/t/acme")
            let device = try await client.form("/t/acme/oauth/device_authorization", [("client_id", "tv")])
            #expect(device.string("verification_uri") == "https://auth.example:8443/t/acme/device")
            #expect(try await client.form("/oauth/device_authorization", [("client_id", "tv")]).status == .notFound)
            let token = try await client.form("/t/acme/oauth/token", [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                                                                      ("device_code", try #require(device.string("device_code"))), ("client_id", "tv")])
            expectOAuthError(token, "authorization_pending", .badRequest)
        }
    }

    @Test func healthMetricsAndVerificationPage() async throws {
        let h = try await Harness()
        try await h.test { client in
            let health = try await client.raw("/healthz")
            #expect(health.status == .ok)
            #expect(health.string("store") == "ok")
            _ = try await client.fullFlow()
            let metrics = try await client.raw("/metrics")
            #expect(metrics.raw.contains("hallpass_tokens_issued_total 1"))
            #expect(metrics.raw.contains("hallpass_device_authorizations_total 1"))
            let page = try await client.raw("/device")
            #expect(page.raw.contains("hallpass approve --server http://127.0.0.1:8080"))
        }
    }
}
