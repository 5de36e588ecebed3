import Foundation
import HallpassCore
import HallpassServer
import Hummingbird
import HummingbirdTesting
import Testing

/// One test per RFC 8628 §3.2 and §3.5 outcome, asserting the exact wire error and status.
@Suite struct DeviceGrantHTTPTests {
    @Test func deviceAuthorizationResponse() async throws {
        let h = try await Harness()
        try await h.test { client in
            let reply = try await client.form("/oauth/device_authorization", [("client_id", "tv"), ("scope", "openid read")])
            #expect(reply.status == .ok)
            #expect(reply.headers[.cacheControl] == "no-store")
            let userCode = try #require(reply.string("user_code"))
            #expect(userCode.range(of: "^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$", options: .regularExpression) != nil)
            #expect((reply.string("device_code")?.count ?? 0) >= 43)
            #expect(reply.string("verification_uri") == "http://127.0.0.1:8080/device")
            #expect(reply.string("verification_uri_complete") == "http://127.0.0.1:8080/device?user_code=\(userCode)")
            #expect(reply["expires_in"] as? Int == 600)
            #expect(reply["interval"] as? Int == 5)
        }
    }

    @Test func authorizationPendingThenSlowDownRaisesTheIntervalForGood() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (deviceCode, _) = try await client.deviceAuthorization()
            expectOAuthError(try await client.poll(deviceCode), "authorization_pending", .badRequest)
            h.clock.advance(by: 4)
            expectOAuthError(try await client.poll(deviceCode), "slow_down", .badRequest)  // 4 s < 5 s
            h.clock.advance(by: 9)
            expectOAuthError(try await client.poll(deviceCode), "slow_down", .badRequest)  // 9 s < 10 s now
            h.clock.advance(by: 15)
            expectOAuthError(try await client.poll(deviceCode), "authorization_pending", .badRequest)
            h.clock.advance(by: 14)
            expectOAuthError(try await client.poll(deviceCode), "slow_down", .badRequest)  // interval is 15 for good
            let stored = try await h.store.grant(deviceCodeHash: SecretToken.hash(deviceCode))
            #expect(stored?.interval == 20)
        }
    }

    @Test func pollingAtTheIntervalNeverGetsSlowDown() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (deviceCode, _) = try await client.deviceAuthorization()
            for _ in 0..<10 {
                expectOAuthError(try await client.poll(deviceCode), "authorization_pending", .badRequest)
                h.clock.advance(by: 5)
            }
        }
    }

    @Test func approvedCodeYieldsTokensExactlyOnce() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (deviceCode, userCode) = try await client.deviceAuthorization()
            let session = try await client.login()
            #expect(try await client.approve(userCode, session: session).status == .ok)
            let token = try await client.poll(deviceCode)
            #expect(token.status == .ok)
            #expect(token.headers[.cacheControl] == "no-store")
            #expect(token.string("token_type") == "Bearer")
            #expect(token.string("scope") == "openid profile read")
            #expect(token["expires_in"] as? Int == 3600)
            #expect(token.string("refresh_token") != nil)
            #expect(token.string("id_token") != nil)
            h.clock.advance(by: 5)
            expectOAuthError(try await client.poll(deviceCode), "invalid_grant", .badRequest)
        }
    }

    @Test func deniedCodeGetsAccessDenied() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (deviceCode, userCode) = try await client.deviceAuthorization()
            let session = try await client.login()
            let reply = try await client.json("/consent/deny", ["user_code": userCode], bearer: session)
            #expect(reply.string("status") == "denied")
            expectOAuthError(try await client.poll(deviceCode), "access_denied", .badRequest)
        }
    }

    @Test func expiredCodeGetsExpiredToken() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (deviceCode, userCode) = try await client.deviceAuthorization()
            h.clock.advance(by: 601)
            expectOAuthError(try await client.poll(deviceCode), "expired_token", .badRequest)
            let session = try await client.login()
            expectOAuthError(try await client.approve(userCode, session: session), "invalid_grant", .badRequest)
        }
    }

    @Test func approvedButExpiredBeforeRedemptionIsExpired() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (deviceCode, userCode) = try await client.deviceAuthorization()
            let session = try await client.login()
            #expect(try await client.approve(userCode, session: session).status == .ok)
            h.clock.advance(by: 601)
            expectOAuthError(try await client.poll(deviceCode), "expired_token", .badRequest)
        }
    }

    @Test func unknownOrForeignDeviceCodeIsInvalidGrant() async throws {
        let h = try await Harness()
        try await h.test { client in
            expectOAuthError(try await client.poll("not-a-real-code"), "invalid_grant", .badRequest)
            let (deviceCode, _) = try await client.deviceAuthorization()
            // Another client presenting tv's device code learns nothing.
            expectOAuthError(try await client.poll(deviceCode, client: "kiosk"), "invalid_grant", .badRequest)
        }
    }

    @Test func disabledUserGetsNoTokenAtRedemption() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (deviceCode, userCode) = try await client.deviceAuthorization()
            let session = try await client.login()
            #expect(try await client.approve(userCode, session: session).status == .ok)
            #expect(try await h.store.setDisabled(name: "alice", true))
            expectOAuthError(try await client.poll(deviceCode), "invalid_grant", .badRequest)
            let grant = try await h.store.grant(deviceCodeHash: SecretToken.hash(deviceCode))
            #expect(grant?.status == .approved)  // nothing was consumed
        }
    }

    @Test func approvingASubsetNarrowsTheToken() async throws {
        let h = try await Harness()
        try await h.test { client in
            let token = try await client.fullFlow(scope: "openid profile read write", approveScope: "read")
            #expect(token.string("scope") == "read")
            #expect(token.string("id_token") == nil)  // openid was not approved
        }
    }

    @Test func omittedScopeMeansTheClientCeiling() async throws {
        let h = try await Harness()
        try await h.test { client in
            let (_, userCode) = try await client.deviceAuthorization(scope: nil)
            let session = try await client.login()
            let lookup = try await client.json("/consent/lookup", ["user_code": userCode], bearer: session)
            let scopes = (lookup["scopes"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
            #expect(scopes == ["openid", "profile", "read", "write"])
        }
    }
}
