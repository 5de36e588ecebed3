import Crypto
import Foundation
import HallpassCore
@testable import HallpassServer
import HallpassStore
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// CIBA Core 1.0 in poll mode (ARCHITECTURE.md §4.9): the backchannel authentication endpoint's
/// checks and errors (§7, §13), the inbox, decisions by the named person only, and the token
/// endpoint's answers (§10.1, §11).
@Suite struct BackchannelHTTPTests {
    static let grantType = "urn:openid:params:grant-type:ciba"
    static let endpoint = "/oauth/bc-authorize"
    /// `BackchannelAuthenticationEndpoint.pendingPerUser`.
    static let pendingPerUser = 5

    /// A confidential client registered for CIBA.
    static func harness() async throws -> Harness {
        let h = try await Harness()
        try await h.store.addClient(OAuthClient(id: "shell", name: "Build box", secretHash: try PasswordHasher.hash(Harness.confidentialSecret),
                                                scopes: ScopeSet(["openid", "profile", "read"]), grantTypes: [.ciba], interval: 5))
        return h
    }

    static func request(_ client: any TestClientProtocol, _ fields: [(String, String)], id: String = "shell") async throws -> Reply {
        try await client.form(Self.endpoint, fields, headers: .basic(id, Harness.confidentialSecret))
    }

    /// `at_hash`/`rt_hash` for the default RS256 ID token, computed here rather than by the minter:
    /// base64url of the left half of SHA-256.
    static func halfSHA256(_ token: String) -> String {
        let digest = Array(SHA256.hash(data: Data(token.utf8)))
        return Data(digest.prefix(16)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func poll(_ client: any TestClientProtocol, _ authRequestID: String) async throws -> Reply {
        try await client.form("/oauth/token", [("grant_type", grantType), ("auth_req_id", authRequestID)],
                              headers: .basic("shell", Harness.confidentialSecret))
    }

    @Test func aRequestWaitsInTheNamedPersonsInboxAndIsPolledForItsTokens() async throws {
        let h = try await Self.harness()
        try await h.test { client in
            let made = try await Self.request(client, [("scope", "openid read"), ("login_hint", "alice"), ("binding_message", "W4SP-7 on build-01")])
            #expect(made.status == .ok, "\(made.raw)")
            #expect(made.headers[.cacheControl] == "no-store")
            let authRequestID = try #require(made.string("auth_req_id"))
            #expect(made["expires_in"] as? Int == 600 && made["interval"] as? Int == 5)
            #expect(made.string("push_uri") == "ws://127.0.0.1:8080/oauth/device/push")
            expectOAuthError(try await Self.poll(client, authRequestID), "authorization_pending", .badRequest)

            // Bob's inbox is empty; alice's holds it, with the binding message and where it came from.
            let bob = try await client.login("bob", "bob's password")
            #expect((try await client.raw("/consent/inbox", headers: [.authorization: "Bearer \(bob)"])["requests"] as? [Any])?.isEmpty == true)
            let alice = try await client.login()
            let inbox = try #require(try await client.raw("/consent/inbox", headers: [.authorization: "Bearer \(alice)"])["requests"]
                                     as? [[String: Any]])
            #expect(inbox.count == 1)
            let entry = try #require(inbox.first)
            #expect(entry["binding_message"] as? String == "W4SP-7 on build-01" && entry["backchannel"] as? Bool == true)
            #expect(entry["client_name"] as? String == "Build box")
            let userCode = try #require(entry["user_code"] as? String)
            // Only alice can decide it: to bob its code is a code that does not exist.
            expectOAuthError(try await client.approve(userCode, session: bob), "invalid_grant", .badRequest)
            #expect(try await client.approve(userCode, session: alice).status == .ok)

            let token = try await Self.poll(client, authRequestID)
            #expect(token.status == .ok, "\(token.raw)")
            #expect(token.string("id_token") != nil && token.string("token_type") == "Bearer")
            expectOAuthError(try await Self.poll(client, authRequestID), "invalid_grant", .badRequest)   // used
            #expect((try await client.raw("/consent/inbox", headers: [.authorization: "Bearer \(alice)"])["requests"] as? [Any])?.isEmpty == true)
        }
    }

    /// Every screen of the named user hears of a new request and of its decision on the bus
    /// (the socket's `inbox` frames); nobody else's.
    @Test func theNamedUsersInboxIsToldOfEachRequestAndDecision() async throws {
        let h = try await Self.harness()
        let heard = Mutex<[String]>([])
        let alice = h.server.events.listenInbox(loginHint: "alice") { heard.withLock { $0.append("alice") } }
        let bob = h.server.events.listenInbox(loginHint: "bob") { heard.withLock { $0.append("bob") } }
        defer { alice.cancel(); bob.cancel() }
        try await h.test { client in
            _ = try #require(try await Self.request(client, [("scope", "openid"), ("login_hint", "alice")]).string("auth_req_id"))
            #expect(heard.withLock { $0 } == ["alice"])
            let session = try await client.login()
            let code = try #require((try await client.raw("/consent/inbox", headers: [.authorization: "Bearer \(session)"])["requests"]
                                     as? [[String: Any]])?.first?["user_code"] as? String)
            #expect(try await client.json("/consent/deny", ["user_code": code], bearer: session).status == .ok)
            #expect(heard.withLock { $0 } == ["alice", "alice"])
        }
    }

    @Test func pollingTooFastSlowsDownAndADenialOrExpiryEndsIt() async throws {
        let h = try await Self.harness()
        try await h.test { client in
            let first = try #require(try await Self.request(client, [("scope", "openid"), ("login_hint", "alice")]).string("auth_req_id"))
            expectOAuthError(try await Self.poll(client, first), "authorization_pending", .badRequest)
            let fast = try await Self.poll(client, first)
            expectOAuthError(fast, "slow_down", .badRequest)
            let alice = try await client.login()
            let code = try #require((try await client.raw("/consent/inbox", headers: [.authorization: "Bearer \(alice)"])["requests"]
                                     as? [[String: Any]])?.first?["user_code"] as? String)
            #expect(try await client.json("/consent/deny", ["user_code": code], bearer: alice).status == .ok)
            h.clock.advance(by: 20)
            expectOAuthError(try await Self.poll(client, first), "access_denied", .badRequest)

            let second = try #require(try await Self.request(client, [("scope", "openid"), ("login_hint", "alice"), ("requested_expiry", "60")])
                .string("auth_req_id"))
            h.clock.advance(by: 61)
            expectOAuthError(try await Self.poll(client, second), "expired_token", .badRequest)
            // A device code is no auth_req_id, nor the other way round.
            let (deviceCode, _) = try await client.deviceAuthorization()
            expectOAuthError(try await Self.poll(client, deviceCode), "invalid_grant", .badRequest)
        }
    }

    @Test func everyRefusalOfTheRequestIsItsOwnError() async throws {
        let h = try await Self.harness()
        try await h.test { client in
            func refused(_ fields: [(String, String)], _ code: String, id: String = "shell", status: HTTPResponse.Status = .badRequest,
                         sourceLocation: SourceLocation = #_sourceLocation) async throws {
                expectOAuthError(try await Self.request(client, fields, id: id), code, status, sourceLocation: sourceLocation)
            }
            try await refused([("login_hint", "alice")], "invalid_request")                                    // no scope
            try await refused([("scope", "read"), ("login_hint", "alice")], "invalid_scope")                    // no openid
            try await refused([("scope", "openid write"), ("login_hint", "alice")], "invalid_scope")            // beyond the client's
            try await refused([("scope", "openid")], "invalid_request")                                         // no hint
            try await refused([("scope", "openid"), ("login_hint", "alice"), ("id_token_hint", "x")], "invalid_request")
            try await refused([("scope", "openid"), ("login_hint_token", "x")], "invalid_request")             // not supported
            try await refused([("scope", "openid"), ("login_hint", "alice"), ("user_code", "1234")], "invalid_request")
            try await refused([("scope", "openid"), ("login_hint", "alice"), ("binding_message", "code \u{1B}[2J")], "invalid_binding_message")
            try await refused([("scope", "openid"), ("login_hint", "alice"), ("binding_message", String(repeating: "x", count: 65))],
                              "invalid_binding_message")
            try await refused([("scope", "openid"), ("login_hint", "alice"), ("binding_message", "a\u{202E}b")], "invalid_binding_message")
            try await refused([("scope", "openid"), ("login_hint", "alice"), ("requested_expiry", "soon")], "invalid_request")
            try await refused([("scope", "openid"), ("login_hint", "alice"), ("request", "eyJ")], "invalid_request")
            // The "rs" client is not registered for CIBA; a wrong secret is not a client.
            expectOAuthError(try await client.form(Self.endpoint, [("scope", "openid"), ("login_hint", "alice")],
                                                   headers: .basic("rs", Harness.confidentialSecret)), "unauthorized_client", .badRequest)
            expectOAuthError(try await client.form(Self.endpoint, [("scope", "openid"), ("login_hint", "alice")],
                                                   headers: .basic("shell", "wrong")), "invalid_client", .unauthorized)
            // Sixty-four characters, in any script, are fine.
            #expect(try await Self.request(client, [("scope", "openid"), ("login_hint", "alice"),
                                                    ("binding_message", String(repeating: "界", count: 64))]).status == .ok)
        }
    }

    @Test func anUnknownNameIsAnsweredLikeAKnownOneAndChargedToTheAddress() async throws {
        let h = try await Self.harness()
        try await h.test { client in
            let known = try await Self.request(client, [("scope", "openid"), ("login_hint", "alice")])
            let unknown = try await Self.request(client, [("scope", "openid"), ("login_hint", "mallory")])
            #expect(known.status == .ok && unknown.status == .ok)
            #expect(Set(known.body.keys) == Set(unknown.body.keys))
            expectOAuthError(try await Self.poll(client, try #require(unknown.string("auth_req_id"))), "authorization_pending", .badRequest)
            // Twenty unknown names from one address use up its budget; then every request waits.
            for index in 0..<19 { _ = try await Self.request(client, [("scope", "openid"), ("login_hint", "nobody\(index)")]) }
            let blocked = try await Self.request(client, [("scope", "openid"), ("login_hint", "alice")])
            expectOAuthError(blocked, "access_denied", .forbidden)      // CIBA §13: 403 here
            #expect(blocked.string("error_description")?.contains("unknown users") == true)
            #expect(blocked.headers[.retryAfter].flatMap(Int.init).map { $0 > 0 } == true)
        }
    }

    @Test func aClientCannotFloodAPersonsInbox() async throws {
        let h = try await Self.harness()
        try await h.test { client in
            for _ in 0..<Self.pendingPerUser {
                #expect(try await Self.request(client, [("scope", "openid"), ("login_hint", "alice")]).status == .ok)
            }
            let flood = try await Self.request(client, [("scope", "openid"), ("login_hint", "alice")])
            expectOAuthError(flood, "access_denied", .forbidden)
            // Bob's inbox is another person's: not full.
            #expect(try await Self.request(client, [("scope", "openid"), ("login_hint", "bob")]).status == .ok)
            // Once they expire, alice can be asked again.
            h.clock.advance(by: 601)
            #expect(try await Self.request(client, [("scope", "openid"), ("login_hint", "alice")]).status == .ok)
        }
    }

    @Test func theMetadataSaysPollModeWithoutUserCodes() async throws {
        let h = try await Self.harness()
        try await h.test { client in
            for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
                let meta = try await client.raw(path)
                #expect(meta.string("backchannel_authentication_endpoint") == "http://127.0.0.1:8080/oauth/bc-authorize")
                #expect(meta["backchannel_token_delivery_modes_supported"] as? [String] == ["poll", "ping", "push"])
                #expect(meta["backchannel_user_code_parameter_supported"] as? Bool == false)
                #expect((meta["grant_types_supported"] as? [String])?.contains(Self.grantType) == true)
            }
        }
    }

    /// Records deliveries instead of making them.
    final class RecordingTransport: BackchannelTransport, @unchecked Sendable {
        let calls = Mutex<[(url: String, json: Data, bearer: String)]>([])
        func post(_ url: String, json: Data, bearer: String) async throws -> Int {
            calls.withLock { $0.append((url, json, bearer)) }
            return 204
        }
        func waitForCalls(_ count: Int) async throws -> [(url: String, body: [String: Any], bearer: String)] {
            for _ in 0..<200 {
                if calls.withLock({ $0.count }) >= count { break }
                try await Task.sleep(for: .milliseconds(10))
            }
            return calls.withLock { $0 }.map { call in
                (call.url, (try? JSONSerialization.jsonObject(with: call.json)) as? [String: Any] ?? [:], call.bearer)
            }
        }
    }

    static func client(mode: BackchannelDeliveryMode, in h: Harness, refresh: Bool = false) async throws {
        var client = OAuthClient(id: "shell", name: "Build box", secretHash: try PasswordHasher.hash(Harness.confidentialSecret),
                                 scopes: ScopeSet(["openid", "read"]), grantTypes: refresh ? [.ciba, .refreshToken] : [.ciba], interval: 5)
        client.backchannelMode = mode
        client.backchannelNotificationEndpoint = "https://shell.example/cb"
        try await h.store.addClient(client)
    }

    @Test func pingTellsTheClientItsRequestIsDecidedWithItsOwnToken() async throws {
        let transport = RecordingTransport()
        let h = try await Harness(backchannelTransport: transport)
        try await Self.client(mode: .ping, in: h)
        try await h.test { client in
            expectOAuthError(try await Self.request(client, [("scope", "openid"), ("login_hint", "alice")]), "invalid_request", .badRequest)
            for token in ["a b", "a=b", "=", "ab=c="] {                     // RFC 6750 §2.1: "=" only as trailing padding
                expectOAuthError(try await Self.request(client, [("scope", "openid"), ("login_hint", "alice"), ("client_notification_token", token)]),
                                 "invalid_request", .badRequest)
            }
            let made = try await Self.request(client, [("scope", "openid"), ("login_hint", "alice"), ("client_notification_token", "nt-8f2k==")])
            let authRequestID = try #require(made.string("auth_req_id"))
            #expect(made["interval"] as? Int == 5)                          // a ping client may poll
            let alice = try await client.login()
            let code = try #require((try await client.raw("/consent/inbox", headers: [.authorization: "Bearer \(alice)"])["requests"]
                                     as? [[String: Any]])?.first?["user_code"] as? String)
            #expect(try await client.approve(code, session: alice).status == .ok)
            let calls = try await transport.waitForCalls(1)
            #expect(calls.count == 1)
            #expect(calls.first?.url == "https://shell.example/cb" && calls.first?.bearer == "nt-8f2k==")
            #expect(calls.first?.body.keys.sorted() == ["auth_req_id"] && calls.first?.body["auth_req_id"] as? String == authRequestID)
            // Pinged, the client fetches its tokens at the token endpoint.
            #expect(try await Self.poll(client, authRequestID).status == .ok)
        }
    }

    @Test func pushDeliversTheTokenResponseOrTheDenial() async throws {
        let transport = RecordingTransport()
        let h = try await Harness(backchannelTransport: transport)
        try await Self.client(mode: .push, in: h, refresh: true)
        try await h.test { client in
            let first = try #require(try await Self.request(client, [("scope", "openid read"), ("login_hint", "alice"),
                                                                     ("client_notification_token", "nt-1")]).string("auth_req_id"))
            let second = try #require(try await Self.request(client, [("scope", "openid"), ("login_hint", "alice"),
                                                                      ("client_notification_token", "nt-2")]).string("auth_req_id"))
            // A push-mode client does not poll: no interval (§7.3), and the token endpoint refuses it.
            #expect(try await Self.request(client, [("scope", "openid"), ("login_hint", "bob"), ("client_notification_token", "nt-3")])
                .body.keys.sorted() == ["auth_req_id", "expires_in", "push_uri"])
            expectOAuthError(try await Self.poll(client, first), "unauthorized_client", .badRequest)
            let alice = try await client.login()
            let inbox = try #require(try await client.raw("/consent/inbox", headers: [.authorization: "Bearer \(alice)"])["requests"]
                                     as? [[String: Any]])
            #expect(try await client.approve(try #require(inbox[0]["user_code"] as? String), session: alice).status == .ok)
            #expect(try await client.json("/consent/deny", ["user_code": try #require(inbox[1]["user_code"] as? String)], bearer: alice)
                .status == .ok)
            let calls = try await transport.waitForCalls(2)
            let approved = try #require(calls.first { $0.bearer == "nt-1" })
            #expect(approved.body["auth_req_id"] as? String == first)
            let accessToken = try #require(approved.body["access_token"] as? String)
            #expect(approved.body["token_type"] as? String == "Bearer" && approved.body["scope"] as? String == "openid read")
            // §10.3.1: the ID token binds the access token, the refresh token and the request.
            let idJWT = try #require(approved.body["id_token"] as? String)
            let header = try #require(Base64URL.decode(String(idJWT.split(separator: ".")[0])))
            #expect((try JSONSerialization.jsonObject(with: header) as? [String: Any])?["alg"] as? String == "RS256")
            let idToken = try DPoPHTTPTests.claims(idJWT)
            let refreshToken = try #require(approved.body["refresh_token"] as? String)
            #expect(idToken["urn:openid:params:jwt:claim:auth_req_id"] as? String == first)
            #expect(idToken["at_hash"] as? String == Self.halfSHA256(accessToken))
            #expect(idToken["urn:openid:params:jwt:claim:rt_hash"] as? String == Self.halfSHA256(refreshToken))
            let seen = try await client.form("/oauth/introspect", [("token", accessToken)], headers: .basic("rs", Harness.confidentialSecret))
            #expect(seen["active"] as? Bool == true && seen["client_id"] as? String == "shell")
            let denied = try #require(calls.first { $0.bearer == "nt-2" })
            #expect(denied.body["auth_req_id"] as? String == second && denied.body["error"] as? String == "access_denied")
            #expect(denied.body["access_token"] == nil)
        }
    }

    /// §12 and §10.2 on expiry: nobody decided in time, so the sweeper's claim tells a push
    /// client `expired_token` and pings a ping client (whose poll then answers `expired_token`),
    /// each exactly once; a poll-mode client is not called.
    @Test(arguments: [BackchannelDeliveryMode.push, .ping])
    func anExpiryIsAnnouncedToPingAndPushClients(mode: BackchannelDeliveryMode) async throws {
        let transport = RecordingTransport()
        let h = try await Harness(backchannelTransport: transport)
        try await Self.client(mode: mode, in: h)
        let sweeper = ExpirySweeper(grants: h.store, clock: h.clock, logger: .init(label: "test"), backchannel: h.server.backchannelNotifier)
        try await h.test { client in
            let made = try await Self.request(client, [("scope", "openid"), ("login_hint", "alice"), ("requested_expiry", "30"),
                                                       ("client_notification_token", "nt-x")])
            let authRequestID = try #require(made.string("auth_req_id"))
            try await sweeper.claimExpiredBackchannel()
            h.clock.advance(by: 31)
            try await sweeper.claimExpiredBackchannel()
            try await sweeper.claimExpiredBackchannel()
            let calls = try await transport.waitForCalls(1)
            try await Task.sleep(for: .milliseconds(100))
            #expect(transport.calls.withLock { $0.count } == 1)
            let call = try #require(calls.first)
            #expect(call.bearer == "nt-x" && call.body["auth_req_id"] as? String == authRequestID)
            if mode == .push {
                #expect(call.body["error"] as? String == "expired_token" && call.body["access_token"] == nil)
            } else {
                #expect(call.body.keys.sorted() == ["auth_req_id"])
                expectOAuthError(try await Self.poll(client, authRequestID), "expired_token", .badRequest)
            }
        }
    }

    /// §12: a push whose tokens cannot be issued says `transaction_failed` with the reason, and
    /// leaves no tokens behind; here the approving account was disabled after the decision.
    @Test func aPushThatCannotIssueSaysTransactionFailed() async throws {
        let transport = RecordingTransport()
        let h = try await Harness(backchannelTransport: transport)
        try await Self.client(mode: .push, in: h)
        try await h.test { client in
            _ = try #require(try await Self.request(client, [("scope", "openid"), ("login_hint", "alice"),
                                                             ("client_notification_token", "nt-9")]).string("auth_req_id"))
            let alice = try await client.login()
            let code = try #require((try await client.raw("/consent/inbox", headers: [.authorization: "Bearer \(alice)"])["requests"]
                                     as? [[String: Any]])?.first?["user_code"] as? String)
            var grant = try #require(try await h.store.pendingGrant(userCode: UserCode(parsing: code)))
            try grant.approve(by: try #require(try await h.store.user(named: "alice")).user.id, scopes: ScopeSet(["openid"]), at: h.clock.now)
            #expect(try await h.store.recordDecision(grant, at: h.clock.now))
            #expect(try await h.store.setDisabled(name: "alice", true))
            await h.server.backchannelNotifier.decided(grant)
            let call = try #require(try await transport.waitForCalls(1).first)
            #expect(call.body["error"] as? String == "transaction_failed" && call.body["access_token"] == nil)
            #expect((call.body["error_description"] as? String)?.contains("disabled") == true)
        }
    }
}
