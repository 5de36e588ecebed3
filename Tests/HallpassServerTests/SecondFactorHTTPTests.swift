import Crypto
import Foundation
import HallpassCore
import HallpassServer
import HallpassStore
import Hummingbird
import HummingbirdTesting
import Testing

/// The second factor at the consent API (ARCHITECTURE.md §4.8): enrolment, the code that
/// finishes a login, replay, budgets, step-up scopes, clients that require a code, recovery
/// codes, and what tokens and introspection say about it. Codes are computed here from the
/// secret the server showed (RFC 4226 written in the test), not by the server's own code.
@Suite struct SecondFactorHTTPTests {
    /// RFC 4648 base32, no padding.
    static func base32(_ text: String) -> [UInt8] {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bits = 0, value = 0
        var out: [UInt8] = []
        for character in text.uppercased() {
            guard let index = alphabet.firstIndex(of: character) else { continue }
            value = (value << 5) | index
            bits += 5
            if bits >= 8 {
                out.append(UInt8((value >> (bits - 8)) & 0xFF))
                bits -= 8
            }
        }
        return out
    }

    static func code(_ secret: String, at date: Date, offset: Int64 = 0) -> String {
        var counter = UInt64(Int64(date.timeIntervalSince1970) / 30 + offset).bigEndian
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: withUnsafeBytes(of: &counter) { Array($0) },
                                                               using: SymmetricKey(data: base32(secret))))
        let o = Int(mac[19] & 0x0F)
        let value = (UInt32(mac[o] & 0x7F) << 24) | (UInt32(mac[o + 1]) << 16) | (UInt32(mac[o + 2]) << 8) | UInt32(mac[o + 3])
        return TOTPWindow.format(Int(value % 1_000_000))
    }

    /// Alice enrolled and confirmed outside HTTP (as `users totp` does); her secret and recovery codes.
    static func enrolAlice(_ h: Harness) async throws -> (secret: String, recovery: [String]) {
        let alice = try #require(try await h.store.user(named: "alice")).user
        let enrolment = try await h.server.secondFactorDesk.enroll(user: alice)
        let recovery = try await h.server.secondFactorDesk.confirm(user: alice, code: code(enrolment.secret, at: h.clock.now))
        h.clock.advance(by: 30)   // the confirming code's step is used
        return (enrolment.secret, recovery)
    }

    static func claims(_ jwt: String) throws -> [String: Any] { try DPoPHTTPTests.claims(jwt) }

    @Test func enrolmentThroughTheConsentAPIShowsTheSecretOnceAndGivesRecoveryCodes() async throws {
        let h = try await Harness()
        try await h.test { client in
            let session = try await client.login()
            let started = try await client.json("/consent/totp/enroll", [:], bearer: session)
            #expect(started.status == .ok, "\(started.raw)")
            let secret = try #require(started.string("secret"))
            let uri = try #require(started.string("otpauth_uri"))
            #expect(uri == "otpauth://totp/Hallpass:alice?secret=\(secret)&issuer=Hallpass", "\(uri)")
            #expect(Self.base32(secret).count == 25 && Self.base32(secret).allSatisfy { $0 < 0x80 })
            // Not confirmed yet: a login still needs no code.
            #expect(try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword])["otp_required"] as? Bool == false)

            let wrong = try await client.json("/consent/totp/confirm", ["code": Self.code(secret, at: h.clock.now, offset: 5)], bearer: session)
            expectOAuthError(wrong, "invalid_otp", .unauthorized)
            let confirmed = try await client.json("/consent/totp/confirm", ["code": Self.code(secret, at: h.clock.now)], bearer: session)
            #expect(confirmed.status == .ok, "\(confirmed.raw)")
            let codes = try #require(confirmed["recovery_codes"] as? [String])
            #expect(codes.count == 10 && Set(codes).count == 10)
            // A second enrolment over a confirmed authenticator is refused: an admin disables it first.
            expectOAuthError(try await client.json("/consent/totp/enroll", [:], bearer: session), "invalid_request", .badRequest)
            let status = try await client.raw("/consent/session", headers: [.authorization: "Bearer \(session)"])
            #expect(status["amr"] as? [String] == ["pwd", "otp", "mfa"], "\(status.raw)")
            // From now on a login waits for a code.
            let next = try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword])
            #expect(next["otp_required"] as? Bool == true, "\(next.raw)")
        }
    }

    @Test func aLoginWaitsForTheCodeAndACodeWorksOnce() async throws {
        let h = try await Harness()
        let (secret, _) = try await Self.enrolAlice(h)
        try await h.test { client in
            let (_, userCode) = try await client.deviceAuthorization()
            let login = try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword])
            #expect(login["otp_required"] as? Bool == true && login["amr"] as? [String] == ["pwd"], "\(login.raw)")
            let session = try #require(login.string("session"))
            #expect((login["expires_in"] as? Int ?? 0) <= 300)
            // Nothing but the code works meanwhile.
            expectOAuthError(try await client.json("/consent/lookup", ["user_code": userCode], bearer: session), "otp_required", .unauthorized)
            expectOAuthError(try await client.approve(userCode, session: session), "otp_required", .unauthorized)
            expectOAuthError(try await client.json("/consent/totp/enroll", [:], bearer: session), "otp_required", .unauthorized)
            expectOAuthError(try await client.json("/consent/otp", ["code": "12345"], bearer: session), "invalid_otp", .unauthorized)
            expectOAuthError(try await client.json("/consent/otp", ["code": Self.code(secret, at: h.clock.now, offset: 3)], bearer: session),
                             "invalid_otp", .unauthorized)

            let code = Self.code(secret, at: h.clock.now)
            let done = try await client.json("/consent/otp", ["code": code], bearer: session)
            #expect(done.status == .ok, "\(done.raw)")
            #expect(done["otp_required"] as? Bool == false && done["amr"] as? [String] == ["pwd", "otp", "mfa"], "\(done.raw)")
            #expect((done["expires_in"] as? Int ?? 0) > 300)
            #expect(try await client.json("/consent/lookup", ["user_code": userCode], bearer: session).status == .ok)

            // The same code in another session (a shoulder-surfer's): refused as a replay, as is
            // the code of the step before.
            let other = try #require(try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword])
                .string("session"))
            let replay = try await client.json("/consent/otp", ["code": code], bearer: other)
            expectOAuthError(replay, "invalid_otp", .unauthorized)
            #expect(replay.string("error_description")?.contains("used already") == true, "\(replay.raw)")
            expectOAuthError(try await client.json("/consent/otp", ["code": Self.code(secret, at: h.clock.now, offset: -1)], bearer: other),
                             "invalid_otp", .unauthorized)
            // The next step's code works (the clock moved on).
            h.clock.advance(by: 30)
            #expect(try await client.json("/consent/otp", ["code": Self.code(secret, at: h.clock.now)], bearer: other).status == .ok)
        }
    }

    @Test func wrongCodesSpendTheSameBudgetAsWrongPasswords() async throws {
        let h = try await Harness()
        let (secret, _) = try await Self.enrolAlice(h)
        try await h.test { client in
            let session = try #require(try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword])
                .string("session"))
            for _ in 0..<5 {
                expectOAuthError(try await client.json("/consent/otp", ["code": "000000" == Self.code(secret, at: h.clock.now) ? "111111" : "000000"],
                                                       bearer: session), "invalid_otp", .unauthorized)
            }
            // Locked: even the right code now waits, and so does a new password login.
            let locked = try await client.json("/consent/otp", ["code": Self.code(secret, at: h.clock.now)], bearer: session)
            expectOAuthError(locked, "too_many_attempts", .tooManyRequests)
            #expect(locked.headers[.retryAfter] != nil)
            expectOAuthError(try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword]),
                             "too_many_attempts", .tooManyRequests)
        }
    }

    @Test func knowingThePasswordBuysNoFreshCodeGuesses() async throws {
        let h = try await Harness()
        let (secret, _) = try await Self.enrolAlice(h)
        let wrong = "000000" == Self.code(secret, at: h.clock.now) ? "111111" : "000000"
        try await h.test { client in
            // Four wrong codes, a new login with the right password, one more wrong code: locked.
            var session = try #require(try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword])
                .string("session"))
            for _ in 0..<4 { _ = try await client.json("/consent/otp", ["code": wrong], bearer: session) }
            session = try #require(try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword])
                .string("session"))
            _ = try await client.json("/consent/otp", ["code": wrong], bearer: session)
            expectOAuthError(try await client.json("/consent/otp", ["code": Self.code(secret, at: h.clock.now)], bearer: session),
                             "too_many_attempts", .tooManyRequests)
        }
    }

    @Test func aRecoveryCodeWorksOnce() async throws {
        let h = try await Harness()
        let (_, recovery) = try await Self.enrolAlice(h)
        try await h.test { client in
            for expected in [true, false] {
                let session = try #require(try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword])
                    .string("session"))
                let reply = try await client.json("/consent/otp", ["code": recovery[3].uppercased()], bearer: session)
                if expected {
                    #expect(reply.status == .ok, "\(reply.raw)")
                } else {
                    expectOAuthError(reply, "invalid_otp", .unauthorized)
                }
            }
            let alice = try #require(try await h.store.user(named: "alice")).user
            #expect(try await h.server.secondFactorDesk.status(alice)?.recoveryCodesLeft == 9)
        }
    }

    @Test func aStepUpScopeAsksAFreshCodeAndTheTokensSaySo() async throws {
        let h = try await Harness()
        try await h.store.setScope(name: "write", description: "Change your data", stepUp: true)
        let (secret, _) = try await Self.enrolAlice(h)
        try await h.test { client in
            let session = try #require(try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword])
                .string("session"))
            #expect(try await client.json("/consent/otp", ["code": Self.code(secret, at: h.clock.now)], bearer: session).status == .ok)
            let loggedInAt = Int(h.clock.now.timeIntervalSince1970)
            h.clock.advance(by: 360)   // the login's code is six minutes old now

            let (deviceCode, userCode) = try await client.deviceAuthorization(scope: "openid read write")
            let view = try await client.json("/consent/lookup", ["user_code": userCode], bearer: session)
            #expect(view.string("second_factor") == "write needs a fresh code from your authenticator", "\(view.raw)")
            let refused = try await client.approve(userCode, session: session)
            expectOAuthError(refused, "otp_required", .unauthorized)
            #expect(try await client.poll(deviceCode).error == "authorization_pending")   // nothing decided
            let wrongCode = try await client.json("/consent/approve", ["user_code": userCode, "otp": Self.code(secret, at: h.clock.now, offset: 4)],
                                                  bearer: session)
            expectOAuthError(wrongCode, "invalid_otp", .unauthorized)

            let steppedUpAt = Int(h.clock.now.timeIntervalSince1970)
            let approved = try await client.json("/consent/approve", ["user_code": userCode, "otp": Self.code(secret, at: h.clock.now)],
                                                 bearer: session)
            #expect(approved.status == .ok, "\(approved.raw)")
            let token = try await client.poll(deviceCode)
            let access = try Self.claims(try #require(token.string("access_token")))
            #expect(access["amr"] as? [String] == ["pwd", "otp", "mfa"])
            #expect(access["acr"] as? String == AuthenticationContext.stepUpACR)
            #expect(access["auth_time"] as? Int == steppedUpAt && steppedUpAt > loggedInAt)
            let id = try Self.claims(try #require(token.string("id_token")))
            #expect(id["amr"] as? [String] == ["pwd", "otp", "mfa"] && id["acr"] as? String == AuthenticationContext.stepUpACR)
            #expect(id["auth_time"] as? Int == steppedUpAt)

            // Introspection says the same, for the access token and the refresh token.
            for field in ["access_token", "refresh_token"] {
                let seen = try await client.form("/oauth/introspect", [("token", try #require(token.string(field)))],
                                                 headers: .basic("rs", Harness.confidentialSecret))
                #expect(seen["active"] as? Bool == true, "\(seen.raw)")
                #expect(seen["amr"] as? [String] == ["pwd", "otp", "mfa"] && seen["acr"] as? String == AuthenticationContext.stepUpACR,
                        "\(seen.raw)")
                #expect(seen["auth_time"] as? Int == steppedUpAt)
            }
            // A refresh keeps them.
            let refreshed = try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("client_id", "tv"),
                                                                   ("refresh_token", try #require(token.string("refresh_token")))])
            let again = try Self.claims(try #require(refreshed.string("access_token")))
            #expect(again["amr"] as? [String] == ["pwd", "otp", "mfa"] && again["acr"] as? String == AuthenticationContext.stepUpACR)
        }
    }

    @Test func ordinaryScopesPassOnOneFactorAndSayOnlyThat() async throws {
        let h = try await Harness()
        try await h.store.setScope(name: "write", description: "Change your data", stepUp: true)
        try await h.test { client in
            let (deviceCode, userCode) = try await client.deviceAuthorization(scope: "read write")
            let session = try await client.login("bob", "bob's password")
            // Bob has no authenticator: the step-up scope cannot be approved, read alone can.
            let refused = try await client.approve(userCode, session: session)
            expectOAuthError(refused, "access_denied", .unauthorized)
            #expect(refused.string("error_description")?.contains("no authenticator") == true, "\(refused.raw)")
            #expect(try await client.approve(userCode, scope: "read", session: session).status == .ok)
            let token = try await client.poll(deviceCode)
            let access = try Self.claims(try #require(token.string("access_token")))
            #expect(access["amr"] as? [String] == ["pwd"] && access["acr"] == nil, "\(access)")
        }
    }

    @Test func aClientThatRequiresACodeNeedsASessionOpenedWithOne() async throws {
        let h = try await Harness()
        var strict = OAuthClient(id: "vault", name: "Vault", secretHash: nil, scopes: ScopeSet(["read"]), grantTypes: [.deviceCode])
        strict.requiresTOTP = true
        try await h.store.addClient(strict)
        #expect(try await h.store.client(id: "vault")?.requiresTOTP == true)
        let (secret, _) = try await Self.enrolAlice(h)
        try await h.test { client in
            let (_, first) = try await client.deviceAuthorization(client: "vault", scope: "read")
            let bob = try await client.login("bob", "bob's password")
            expectOAuthError(try await client.approve(first, session: bob), "access_denied", .unauthorized)

            let alice = try #require(try await client.json("/consent/login", ["username": "alice", "password": Harness.alicePassword])
                .string("session"))
            #expect(try await client.json("/consent/otp", ["code": Self.code(secret, at: h.clock.now)], bearer: alice).status == .ok)
            h.clock.advance(by: 600)   // any code in the session will do, however old (not only a fresh one)
            let (deviceCode, second) = try await client.deviceAuthorization(client: "vault", scope: "read")
            #expect(try await client.approve(second, session: alice).status == .ok)
            let access = try Self.claims(try #require(try await client.poll(deviceCode, client: "vault").string("access_token")))
            #expect(access["amr"] as? [String] == ["pwd", "otp", "mfa"] && access["acr"] == nil)
            // auth_time is the code's time; "your devices" still says when it was approved.
            let decidedAt = Int(h.clock.now.timeIntervalSince1970)
            #expect(access["auth_time"] as? Int == decidedAt - 600)
            let devices = try #require(try await client.raw("/consent/devices", headers: [.authorization: "Bearer \(alice)"])["devices"]
                                       as? [[String: Any]])
            #expect(devices.first?["approved_at"] as? Int == decidedAt, "\(devices)")
        }
    }

    @Test func sshLoginsWaitForTheCodeLikeTheConsentAPI() async throws {
        let h = try await Harness(configure: { $0.totpForSSHKeys = true })
        let (secret, _) = try await Self.enrolAlice(h)
        let handed = try await h.server.sshLogins.passwordLogin(name: "alice", password: Harness.alicePassword, source: "192.0.2.7")
        try await h.test { client in
            let status = try await client.raw("/consent/session", headers: [.authorization: "Bearer \(handed.token)"])
            #expect(status["otp_required"] as? Bool == true, "\(status.raw)")
            expectOAuthError(try await client.json("/consent/lookup", ["user_code": "BCDF-GHJK"], bearer: handed.token),
                             "otp_required", .unauthorized)
            #expect(try await client.json("/consent/otp", ["code": Self.code(secret, at: h.clock.now)], bearer: handed.token).status == .ok)
        }
    }

    /// SSH key logins say `swk`, and wait for a code only when the server sets `totp_for_ssh_keys`.
    @Test(arguments: [false, true]) func sshKeyLoginsWaitForACodeOnlyWhenTheServerSaysSo(codeForKeys: Bool) async throws {
        let h = try await Harness(configure: { $0.totpForSSHKeys = codeForKeys })
        let key = try SSHPublicKeyLine(parsing: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINxDQILeWuHewSRmCKSoNft6fCSvZ+JNPXa4t5OOEqk+ alice@laptop")
        _ = try await h.store.addSSHKey(SSHKeyRecord(userID: h.aliceID, type: key.type, blob: key.blob, fingerprint: "SHA256:x",
                                                     comment: "", addedAt: h.clock.now))
        _ = try await Self.enrolAlice(h)
        let handed = try #require(try await h.server.sshLogins.keyLogin(name: "alice", key: key, source: "192.0.2.7"))
        try await h.test { client in
            let status = try await client.raw("/consent/session", headers: [.authorization: "Bearer \(handed.token)"])
            #expect(status["otp_required"] as? Bool == codeForKeys, "\(status.raw)")
            #expect(status["amr"] as? [String] == ["swk"], "\(status.raw)")
        }
    }
}
