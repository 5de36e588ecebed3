import Foundation
import HallpassCore
import HallpassServer
import HallpassStore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The login budgets on the consent API (README "Login budgets"), with client addresses given
/// by a trusted proxy: what locks is a (name, address) pair; names and addresses throttle.
@Suite struct LoginBudgetHTTPTests {
    func login(_ client: any TestClientProtocol, _ name: String, _ password: String, from address: String) async throws -> Reply {
        let body = try JSONSerialization.data(withJSONObject: ["username": name, "password": password])
        return try await client.raw("/consent/login", method: .post, body: String(decoding: body, as: UTF8.self),
                                    headers: [.contentType: "application/json", HTTPField.Name("X-Forwarded-For")!: address])
    }

    func harness() async throws -> Harness { try await Harness(trustedProxies: ClientAddressHTTPTests.loopbackProxy) }

    @Test func anAttackerFailingAHundredTimesForAliceGetsFiveGuessesAndAliceStillGetsIn() async throws {
        let h = try await harness()
        try await h.test(.live) { client in
            var statuses: [HTTPResponse.Status] = []
            for i in 0..<100 {
                statuses.append(try await login(client, "alice", "guess-\(i)", from: "203.0.113.66").status)
                h.clock.advance(by: 1)
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == .unauthorized })
            #expect(statuses.dropFirst(5).allSatisfy { $0 == .tooManyRequests })
            // Locked for that pair even with the right password; the answer says for how long.
            let locked = try await login(client, "alice", Harness.alicePassword, from: "203.0.113.66")
            expectOAuthError(locked, "too_many_attempts", .tooManyRequests)
            #expect(locked.string("error_description")?.contains("from your address") == true, "\(locked.raw)")
            #expect(Int(locked.headers[.retryAfter] ?? "") == 900 - 100)
            // alice, from her own address (never seen before), gets in at once.
            let mine = try await login(client, "alice", Harness.alicePassword, from: "192.0.2.10")
            #expect(mine.status == .ok && mine.string("session") != nil, "\(mine.raw)")
            // The attacker gets five more only when the 15-minute window has passed.
            h.clock.advance(by: 15 * 60)
            #expect(try await login(client, "alice", "again", from: "203.0.113.66").status == .unauthorized)
        }
    }

    @Test func thirtyUsersBehindOneNATEachLogInAfterOneTypo() async throws {
        let h = try await harness()
        let hash = try PasswordHasher.hash("office password")
        for i in 0..<30 { _ = try await h.store.addUser(name: "user\(i)", passwordHash: hash) }
        try await h.test(.live) { client in
            for i in 0..<30 {
                let typo = try await login(client, "user\(i)", "office pasword", from: "198.51.100.1")
                expectOAuthError(typo, "access_denied", .unauthorized)
                let right = try await login(client, "user\(i)", "office password", from: "198.51.100.1")
                #expect(right.status == .ok, "user\(i): \(right.raw)")
                h.clock.advance(by: 7)
            }
        }
    }

    @Test func aBotnetIsThrottledPerNameAndAliceAtHomeIsNot() async throws {
        let h = try await harness()
        try await h.test(.live) { client in
            // alice logged in from home once; later a botnet tries her name from 500 addresses,
            // each trying the moment it may, for an hour.
            #expect(try await login(client, "alice", Harness.alicePassword, from: "192.0.2.10").status == .ok)
            var tried = 0, next = 0, waits: [Int] = []
            let start = h.clock.now
            while h.clock.now.timeIntervalSince(start) < 3600 {
                let reply = try await login(client, "alice", "guess", from: "203.0.113.\(next % 250)")
                next += 1
                if reply.status == .unauthorized { tried += 1; continue }
                expectOAuthError(reply, "too_many_attempts", .tooManyRequests)
                let wait = try #require(Int(reply.headers[.retryAfter] ?? ""))
                waits.append(wait)
                if waits.count == 20 {
                    // Mid-attack: alice at home is not delayed; from a new address she waits.
                    let home = try await login(client, "alice", Harness.alicePassword, from: "192.0.2.10")
                    #expect(home.status == .ok, "\(home.raw)")
                    let away = try await login(client, "alice", Harness.alicePassword, from: "192.0.2.99")
                    expectOAuthError(away, "too_many_attempts", .tooManyRequests)
                    #expect(away.string("error_description")?.contains("many addresses") == true)
                }
                h.clock.advance(by: TimeInterval(wait))
            }
            // The README's number: 74 guesses for one name in the first hour, however many addresses.
            #expect(tried == 74)
            #expect(waits.max() == 60)
        }
    }

    @Test func aThrottledAnswerChargesNothing() async throws {
        let h = try await harness()
        try await h.test(.live) { client in
            for i in 0..<10 { _ = try await login(client, "bob", "wrong", from: "203.0.113.\(i)") }
            for _ in 0..<50 {    // hammering inside the delay does not push it further out
                expectOAuthError(try await login(client, "bob", "wrong", from: "203.0.113.99"), "too_many_attempts", .tooManyRequests)
            }
            h.clock.advance(by: 1)
            expectOAuthError(try await login(client, "bob", "wrong", from: "203.0.113.99"), "access_denied", .unauthorized)
        }
    }
}
