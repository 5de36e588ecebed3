import Foundation
import HallpassCore
import HallpassServer
import HallpassStore
import Testing

/// What the SSH front asks of the server: key and password logins under the consent API's limits.
@Suite struct SSHLoginTests {
    let aliceKey = try! SSHPublicKeyLine(parsing: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINxDQILeWuHewSRmCKSoNft6fCSvZ+JNPXa4t5OOEqk+ alice@laptop")
    let strangerKey = try! SSHPublicKeyLine(parsing: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMhO/aDN3UIZFnv1s1PPqFDqSGGqzZVmMPqqHeg8+Kbo x")

    func harness() async throws -> Harness {
        let h = try await Harness()
        _ = try await h.store.addSSHKey(SSHKeyRecord(userID: h.aliceID, type: aliceKey.type, blob: aliceKey.blob,
                                                     fingerprint: aliceKey.fingerprint, comment: "laptop", addedAt: Date()))
        return h
    }

    @Test func aKeyLogsInOnlyItsOwnerUnderTheirOwnName() async throws {
        let h = try await harness()
        let session = try #require(try await h.server.sshKeyLogin(name: "alice", key: aliceKey, source: "192.0.2.1"))
        #expect(session.userName == "alice" && session.token.hasPrefix("cs_"))
        #expect(try await h.store.session(tokenHash: SecretToken.hash(session.token)) != nil)
        #expect(try await h.server.sshKeyLogin(name: "bob", key: aliceKey, source: "192.0.2.1") == nil)   // alice's key, bob's name
        #expect(try await h.server.sshKeyLogin(name: "alice", key: strangerKey, source: "192.0.2.1") == nil)
        await h.server.endConsentSession(token: session.token)
        #expect(try await h.store.session(tokenHash: SecretToken.hash(session.token)) == nil)
    }

    @Test func unknownKeysSpendTheAddressBudgetWhichThenRefusesEveryKey() async throws {
        let h = try await harness()
        for _ in 0..<20 {
            #expect(try await h.server.sshKeyLogin(name: "alice", key: strangerKey, source: "192.0.2.66") == nil)
        }
        #expect(try await h.server.sshKeyLogin(name: "alice", key: aliceKey, source: "192.0.2.66") == nil)     // address blocked
        #expect(try await h.server.sshKeyLogin(name: "alice", key: aliceKey, source: "192.0.2.67") != nil)     // others are not
        h.clock.advance(by: 15 * 60 + 1)
        #expect(try await h.server.sshKeyLogin(name: "alice", key: aliceKey, source: "192.0.2.66") != nil)     // the window passes
    }

    @Test func wrongPasswordsLockTheNameButNotItsKeys() async throws {
        let h = try await harness()
        for i in 0..<5 {
            await #expect(throws: OAuthError.self) {
                try await h.server.sshPasswordLogin(name: "alice", password: "wrong", source: "198.51.100.\(i)")
            }
        }
        await #expect(throws: OAuthError.self) {                                 // locked, even with the right password
            try await h.server.sshPasswordLogin(name: "alice", password: Harness.alicePassword, source: "198.51.100.9")
        }
        #expect(try await h.server.sshKeyLogin(name: "alice", key: aliceKey, source: "198.51.100.9") != nil)
    }
}
