import Foundation
import HallpassCore
import HallpassServer
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// BCP 247's cross-device defences at the HTTP surface (issue 17): proximity on the consent API
/// and its `require` policy, and trusted networks for device authorization. `.live` behind a
/// trusted loopback proxy, so `X-Forwarded-For` says which network each side is on.
@Suite struct CrossDeviceHTTPTests {
    static let proxy = try! TrustedProxies(parsing: "127.0.0.1, ::1")
    static let attacker = "203.0.113.7"
    static let victim = "198.51.100.4"
    static let victimsDevice = "198.51.100.9"

    static func from(_ address: String) -> HTTPFields { [HTTPField.Name("X-Forwarded-For")!: address] }

    func authorize(_ client: any TestClientProtocol, _ clientID: String, from address: String) async throws -> Reply {
        try await client.form("/oauth/device_authorization", [("client_id", clientID), ("scope", "read")], headers: Self.from(address))
    }

    func session(_ client: any TestClientProtocol, from address: String) async throws -> String {
        let data = try JSONSerialization.data(withJSONObject: ["username": "alice", "password": Harness.alicePassword])
        var headers = Self.from(address)
        headers[.contentType] = "application/json"
        let reply = try await client.raw("/consent/login", method: .post, body: String(decoding: data, as: UTF8.self), headers: headers)
        return try #require(reply.string("session"), "\(reply.raw)")
    }

    func consent(_ client: any TestClientProtocol, _ path: String, _ userCode: String, session: String, from address: String) async throws -> Reply {
        var headers = Self.from(address)
        headers[.contentType] = "application/json"
        headers[.authorization] = "Bearer \(session)"
        return try await client.raw("/consent/\(path)", method: .post, body: #"{"user_code":"\#(userCode)"}"#, headers: headers)
    }

    @Test func theBCPScenarioWarnsOrRefusesByPolicy() async throws {
        let h = try await Harness(trustedProxies: Self.proxy)
        try await h.store.addClient(OAuthClient(id: "pi", name: "Pi", secretHash: nil, scopes: ScopeSet(["read"]),
                                                grantTypes: [.deviceCode], proximity: .require))
        try await h.store.addClient(OAuthClient(id: "quiet", name: "Quiet", secretHash: nil, scopes: ScopeSet(["read"]),
                                                grantTypes: [.deviceCode], proximity: .off))
        try await h.test(.live) { client in
            let session = try await session(client, from: Self.victim)
            // warn (the default): the screen is told, the approval goes through.
            let warned = try #require(try await authorize(client, "tv", from: Self.attacker).string("user_code"))
            let seen = try await consent(client, "lookup", warned, session: session, from: Self.victim)
            #expect(seen.string("proximity") == "different_network" && seen.string("device_ip") == Self.attacker, "\(seen.raw)")
            #expect(try await consent(client, "approve", warned, session: session, from: Self.victim).status == .ok)

            // require: refused, and the request is denied for the device.
            let started = try await authorize(client, "pi", from: Self.attacker)
            let code = try #require(started.string("user_code"))
            let refused = try await consent(client, "approve", code, session: session, from: Self.victim)
            #expect(refused.status == .forbidden && refused.error == "proximity_required", "\(refused.raw)")
            #expect(refused.string("error_description")?.contains(Self.attacker) == true)
            let poll = try await client.poll(try #require(started.string("device_code")), client: "pi")
            expectOAuthError(poll, "access_denied", .badRequest)

            // The same network goes through under require; off says nothing.
            let near = try #require(try await authorize(client, "pi", from: Self.victimsDevice).string("user_code"))
            let nearView = try await consent(client, "lookup", near, session: session, from: Self.victim)
            #expect(nearView.string("proximity") == "same_network")
            #expect(try await consent(client, "approve", near, session: session, from: Self.victim).status == .ok)
            let quiet = try #require(try await authorize(client, "quiet", from: Self.attacker).string("user_code"))
            #expect(try await consent(client, "lookup", quiet, session: session, from: Self.victim)["proximity"] == nil)
        }
    }

    @Test func sitesJoinNetworksAndTrustedNetworksKeepDevicesHome() async throws {
        let h = try await Harness(trustedProxies: Self.proxy) { settings in
            settings.sites = [try! AddressRanges(parsing: "198.51.100.0/24, 203.0.113.0/24")]
            settings.deviceNetworks = try! AddressRanges(parsing: "203.0.113.0/24, 198.51.100.0/24")
        }
        try await h.store.addClient(OAuthClient(id: "lab", name: "Lab", secretHash: nil, scopes: ScopeSet(["read"]),
                                                grantTypes: [.deviceCode], deviceNetworks: try AddressRanges(parsing: "10.0.0.0/8")))
        try await h.test(.live) { client in
            let session = try await session(client, from: Self.victim)
            let code = try #require(try await authorize(client, "tv", from: Self.attacker).string("user_code"))
            #expect(try await consent(client, "lookup", code, session: session, from: Self.victim).string("proximity") == "same_network")
            // The server's device_networks for tv; lab's own list for lab.
            let outside = try await authorize(client, "tv", from: "192.0.2.1")
            expectOAuthError(outside, "access_denied", .badRequest)
            #expect(outside.string("error_description")?.contains("192.0.2.1") == true)
            expectOAuthError(try await authorize(client, "lab", from: Self.attacker), "access_denied", .badRequest)
            #expect(try await authorize(client, "lab", from: "10.20.30.40").status == .ok)
        }
    }

    /// BCP 247 authenticate-then-initiate: a request bound to bob (`login_hint`) is, for alice,
    /// a code that does not exist, answered and charged the same way; bob sees and approves it.
    @Test func aBoundRequestIsInvisibleToEveryoneElse() async throws {
        let h = try await Harness()
        try await h.test { client in
            let bound = try await client.form("/oauth/device_authorization", [("client_id", "tv"), ("scope", "read"), ("login_hint", "bob")])
            let code = try #require(bound.string("user_code"))
            let alice = try await client.login()
            let asAlice = try await client.json("/consent/lookup", ["user_code": code], bearer: alice)
            let nothing = try await client.json("/consent/lookup", ["user_code": "BBBB-BBBB"], bearer: alice)
            #expect(asAlice.status == nothing.status && asAlice.error == "invalid_grant" && nothing.error == "invalid_grant")
            #expect(asAlice.string("error_description")?.hasPrefix("invalid or expired code") == true, "\(asAlice.raw)")
            #expect((asAlice["guesses_left"] as? Int).map { $0 - 1 } == nothing["guesses_left"] as? Int)   // charged alike
            expectOAuthError(try await client.approve(code, session: alice), "invalid_grant", .badRequest)
            let bob = try await client.login("bob", "bob's password")
            #expect(try await client.json("/consent/lookup", ["user_code": code], bearer: bob).status == .ok)
            #expect(try await client.approve(code, session: bob).status == .ok)
            expectOAuthError(try await client.form("/oauth/device_authorization", [("client_id", "tv"), ("login_hint", "bob\u{1B}[2J")]),
                             "invalid_request", .badRequest)
        }
    }

    /// BCP 247 limited, short-lived results: a client's own lifetimes, only ever shorter than the
    /// server's; the idle lifetime ends a grant left unrefreshed, the absolute one every grant.
    @Test func aClientsLifetimesShortenItsTokens() async throws {
        let h = try await Harness()
        try await h.store.addClient(OAuthClient(id: "brief", name: "Brief", secretHash: nil, scopes: ScopeSet(["read"]),
                                                grantTypes: [.deviceCode, .refreshToken], accessTokenLifetime: 600,
                                                refreshTokenLifetime: 7200, refreshIdleLifetime: 1800))
        try await h.store.addClient(OAuthClient(id: "greedy", name: "Greedy", secretHash: nil, scopes: ScopeSet(["read"]),
                                                grantTypes: [.deviceCode], accessTokenLifetime: 86400))
        try await h.test { client in
            #expect(try await client.fullFlow(client: "greedy", scope: "read")["expires_in"] as? Int == 3600)   // never longer
            let token = try await client.fullFlow(client: "brief", scope: "read")
            #expect(token["expires_in"] as? Int == 600)
            func refresh(_ t: String?) async throws -> Reply {
                try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("client_id", "brief"), ("refresh_token", t ?? "")])
            }
            var current = token.string("refresh_token")
            for _ in 0..<4 {                              // refreshed every 25 min: alive until 2 h after the approval
                h.clock.advance(by: 1500)
                let next = try await refresh(current)
                #expect(next.status == .ok, "\(next.raw)")
                current = next.string("refresh_token")
            }
            h.clock.advance(by: 1500)                     // 125 min after the approval
            expectOAuthError(try await refresh(current), "invalid_grant", .badRequest)

            let idle = try await client.fullFlow(client: "brief", scope: "read")
            h.clock.advance(by: 1801)                     // not refreshed for 30 min
            expectOAuthError(try await refresh(idle.string("refresh_token")), "invalid_grant", .badRequest)
        }
        #expect(DurationText.parse("7d") == TimeInterval(7 * 86400))
        // A client without lifetimes of its own keeps the server's sliding 30 days.
        try await h.test { client in
            var refresh = try await client.fullFlow(client: "tv", scope: "read").string("refresh_token")
            for _ in 0..<3 {
                h.clock.advance(by: 29 * 86400)
                let next = try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("client_id", "tv"),
                                                                  ("refresh_token", refresh ?? "")])
                #expect(next.status == .ok, "\(next.raw)")
                refresh = next.string("refresh_token")
            }
        }
    }

    /// "Your devices": the approver sees their own live grants and revokes one; nobody else can.
    @Test func yourDevicesListsAndRevokesOnlyYourOwn() async throws {
        let h = try await Harness()
        try await h.test { client in
            let token = try await client.fullFlow(scope: "read")
            let alice = try await client.login()
            let listed = try await client.raw("/consent/devices", headers: [.authorization: "Bearer \(alice)"])
            let devices = try #require(listed["devices"] as? [[String: Any]])
            #expect(devices.count == 1 && devices[0]["client_id"] as? String == "tv" && devices[0]["client_name"] as? String == "Living-room TV")
            let id = try #require(devices[0]["id"] as? String)
            let bob = try await client.login("bob", "bob's password")
            let stranger = try await client.json("/consent/devices/revoke", ["id": id], bearer: bob)
            #expect(stranger.status == .notFound && stranger.error == "not_found")
            #expect(try await client.raw("/consent/devices", headers: [.authorization: "Bearer \(bob)"])["devices"] as? [Any] != nil)
            #expect(try await client.json("/consent/devices/revoke", ["id": id], bearer: alice).status == .ok)
            let seen = try await client.form("/oauth/introspect", [("token", try #require(token.string("access_token")))],
                                             headers: .basic("rs", Harness.confidentialSecret))
            #expect(seen.body.count == 1 && seen["active"] as? Bool == false)
            expectOAuthError(try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("client_id", "tv"),
                                                                    ("refresh_token", try #require(token.string("refresh_token")))]),
                             "invalid_grant", .badRequest)
            #expect((try await client.raw("/consent/devices", headers: [.authorization: "Bearer \(alice)"])["devices"] as? [Any])?.isEmpty == true)
            #expect(try await client.raw("/consent/devices").status == .unauthorized)
        }
    }

    /// BCP 247 limited scopes: a device grant of this client asks for no more than its
    /// cross-device ceiling, whatever the client may have otherwise.
    @Test func aCrossDeviceCeilingLimitsDeviceGrants() async throws {
        let h = try await Harness()
        try await h.store.addClient(OAuthClient(id: "limited", name: "Limited", secretHash: nil, scopes: ScopeSet(["openid", "read", "write"]),
                                                grantTypes: [.deviceCode], crossDeviceScopes: ScopeSet(["read"])))
        try await h.test { client in
            expectOAuthError(try await client.form("/oauth/device_authorization", [("client_id", "limited"), ("scope", "read write")]),
                             "invalid_scope", .badRequest)
            let asked = try await client.form("/oauth/device_authorization", [("client_id", "limited")])
            let code = try #require(asked.string("user_code"))
            let view = try await client.json("/consent/lookup", ["user_code": code], bearer: try await client.login())
            #expect((view["scopes"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["read"])
        }
    }

    /// "Approved … through which front": a login names its front (never ssh, which only the SSH
    /// front makes), and the decision records it for "your devices".
    @Test func theFrontThatApprovedIsRecorded() async throws {
        let h = try await Harness()
        try await h.test { client in
            for (claimed, recorded) in [("cli", "cli"), ("ssh", "terminal"), ("kiosk", "kiosk")] {
                let (deviceCode, userCode) = try await client.deviceAuthorization(scope: "read")
                let data = try JSONSerialization.data(withJSONObject: ["username": "alice", "password": Harness.alicePassword, "front": claimed])
                let login = try await client.raw("/consent/login", method: .post, body: String(decoding: data, as: UTF8.self),
                                                 contentType: "application/json")
                let session = try #require(login.string("session"))
                #expect(try await client.approve(userCode, session: session).status == .ok)
                #expect(try await client.poll(deviceCode).status == .ok)
                let devices = try #require(try await client.raw("/consent/devices", headers: [.authorization: "Bearer \(session)"])["devices"]
                                           as? [[String: Any]])
                #expect(devices.first?["approved_via"] as? String == recorded, "\(claimed)")
            }
        }
    }
}
