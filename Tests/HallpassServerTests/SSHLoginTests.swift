import Foundation
import HallpassCore
import HallpassServer
import HallpassStore
import HTTPTypes
import HummingbirdTesting
import Testing

/// What the SSH front asks of the server: key logins, and password logins under the consent
/// API's login budgets (README "Login budgets").
@Suite struct SSHLoginTests {
    let aliceKey = try! SSHPublicKeyLine(parsing: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINxDQILeWuHewSRmCKSoNft6fCSvZ+JNPXa4t5OOEqk+ alice@laptop")
    let strangerKey = try! SSHPublicKeyLine(parsing: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMhO/aDN3UIZFnv1s1PPqFDqSGGqzZVmMPqqHeg8+Kbo x")

    func harness() async throws -> Harness {
        let h = try await Harness()
        _ = try await h.store.addSSHKey(SSHKeyRecord(userID: h.aliceID, type: aliceKey.type, blob: aliceKey.blob,
                                                     fingerprint: aliceKey.fingerprint, comment: "laptop", addedAt: Date()))
        return h
    }

    func refusal(_ body: () async throws -> Void) async -> ConsentAPI.Failure? {
        do { try await body(); return nil } catch let error as ConsentAPI.Failure { return error } catch { return nil }
    }

    @Test func aKeyLogsInOnlyItsOwnerUnderTheirOwnName() async throws {
        let h = try await harness()
        let session = try #require(try await h.server.sshLogins.keyLogin(name: "alice", key: aliceKey, source: "192.0.2.1"))
        #expect(session.userName == "alice" && session.token.hasPrefix("cs_"))
        #expect(try await h.store.session(tokenHash: SecretToken.hash(session.token)) != nil)
        #expect(try await h.server.sshLogins.keyLogin(name: "bob", key: aliceKey, source: "192.0.2.1") == nil)   // alice's key, bob's name
        #expect(try await h.server.sshLogins.keyLogin(name: "alice", key: strangerKey, source: "192.0.2.1") == nil)
        await h.server.sshLogins.endSession(token: session.token)
        #expect(try await h.store.session(tokenHash: SecretToken.hash(session.token)) == nil)
    }

    @Test func keyLoginsAreNeverStoppedByPasswordBudgets() async throws {
        let h = try await harness()
        for i in 0..<100 {    // the pair, the name and the address all spent
            _ = await refusal { _ = try await h.server.sshLogins.passwordLogin(name: "alice", password: "wrong", source: "198.51.100.\(i % 3)") }
        }
        for _ in 0..<30 { #expect(try await h.server.sshLogins.keyLogin(name: "alice", key: strangerKey, source: "198.51.100.0") == nil) }
        #expect(try await h.server.sshLogins.keyLogin(name: "alice", key: aliceKey, source: "198.51.100.0") != nil)
    }

    @Test func aStrangerFailingForAliceLocksOnlyTheirOwnAddress() async throws {
        let h = try await harness()
        var wrong = 0, refused = 0
        for _ in 0..<100 {
            let error = await refusal { _ = try await h.server.sshLogins.passwordLogin(name: "alice", password: "wrong", source: "203.0.113.66") }
            if error?.code == .accessDenied { wrong += 1 } else if error?.code == .tooManyAttempts { refused += 1 }
        }
        #expect(wrong == 5 && refused == 95)
        let locked = await refusal { _ = try await h.server.sshLogins.passwordLogin(name: "alice", password: Harness.alicePassword, source: "203.0.113.66") }
        #expect(locked?.code == .tooManyAttempts)
        let session = try await h.server.sshLogins.passwordLogin(name: "alice", password: Harness.alicePassword, source: "192.0.2.10")
        #expect(session.userName == "alice")
    }

    @Test func passwordFailuresOverSSHAndTheConsentAPIShareOneBudget() async throws {
        let h = try await Harness(trustedProxies: ClientAddressHTTPTests.loopbackProxy)
        for _ in 0..<3 {
            _ = await refusal { _ = try await h.server.sshLogins.passwordLogin(name: "alice", password: "wrong", source: "203.0.113.5") }
        }
        try await h.test(.live) { client in
            for expected in ["access_denied", "access_denied", "too_many_attempts"] {
                let reply = try await client.raw("/consent/login", method: .post, body: "{\"username\":\"alice\",\"password\":\"wrong\"}",
                                                 headers: [.contentType: "application/json", HTTPField.Name("X-Forwarded-For")!: "203.0.113.5"])
                #expect(reply.string("error") == expected, "\(reply.raw)")
            }
        }
    }
}
