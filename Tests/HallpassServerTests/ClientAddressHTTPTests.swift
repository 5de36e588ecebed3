import Foundation
import HallpassCore
import HallpassServer
import HallpassStore
import HTTPTypes
import NIOCore
import Hummingbird
import HummingbirdTesting
import Testing

/// `trusted_proxies`: behind a load balancer the client's address comes from `X-Forwarded-For`,
/// but only a trusted peer may say so. These run `.live`, so the socket's peer is 127.0.0.1.
@Suite struct ClientAddressHTTPTests {
    static let loopbackProxy = try! TrustedProxies(parsing: "127.0.0.1, ::1")

    func deviceIP(_ h: Harness, _ userCode: String) async throws -> String? {
        try await h.store.pendingGrant(userCode: UserCode(parsing: userCode))?.deviceIP
    }

    func authorize(_ client: any TestClientProtocol, forwardedFor: String?) async throws -> String {
        var headers: HTTPFields = [:]
        if let forwardedFor { headers[HTTPField.Name("X-Forwarded-For")!] = forwardedFor }
        let reply = try await client.form("/oauth/device_authorization", [("client_id", "tv"), ("scope", "read")], headers: headers)
        #expect(reply.status == .ok, "\(reply.raw)")
        return try #require(reply.string("user_code"))
    }

    /// HTTP and the SSH front key budgets by this form: a dual-stack listener's mapped IPv4 is IPv4.
    @Test func peerAddressesAreCanonical() throws {
        #expect(HallpassRequestContext.canonical(try SocketAddress(ipAddress: "::ffff:10.1.2.3", port: 1)) == "10.1.2.3")
        #expect(HallpassRequestContext.canonical(try SocketAddress(ipAddress: "10.1.2.3", port: 1)) == "10.1.2.3")
        #expect(HallpassRequestContext.canonical(try SocketAddress(ipAddress: "2001:db8::1", port: 1)) == "2001:db8::1")
        #expect(HallpassRequestContext.canonical(nil) == "unknown")
    }

    @Test func behindATrustedProxyTheDeviceIPIsTheForwardedClient() async throws {
        let h = try await Harness(trustedProxies: Self.loopbackProxy)
        try await h.test(.live) { client in
            // The device wrote 6.6.6.6 itself; the proxy appended what it saw.
            let code = try await authorize(client, forwardedFor: "6.6.6.6, 198.51.100.7")
            #expect(try await deviceIP(h, code) == "198.51.100.7")
            let direct = try await authorize(client, forwardedFor: nil)
            #expect(try await deviceIP(h, direct) == "127.0.0.1")
            // An entry that is not an address stops the walk at the proxy itself.
            let junk = try await authorize(client, forwardedFor: "\u{1B}[31mred")
            #expect(try await deviceIP(h, junk) == "127.0.0.1")
        }
    }

    @Test func withoutTrustedProxiesTheHeaderIsIgnored() async throws {
        let h = try await Harness()
        try await h.test(.live) { client in
            let code = try await authorize(client, forwardedFor: "198.51.100.7")
            #expect(try await deviceIP(h, code) == "127.0.0.1")
        }
    }

    /// Wrong logins for fresh names: 50 per address are free, then the address is throttled.
    func failLogins(_ client: any TestClientProtocol, from address: String?, count: Int, tag: String) async throws -> [Reply] {
        var replies: [Reply] = []
        for i in 0..<count {
            var headers: HTTPFields = [.contentType: "application/json"]
            if let address { headers[HTTPField.Name("X-Forwarded-For")!] = address }
            let body = "{\"username\":\"nobody-\(tag)-\(i)\",\"password\":\"wrong\"}"
            replies.append(try await client.raw("/consent/login", method: .post, body: body, headers: headers))
        }
        return replies
    }

    @Test func loginBudgetsAreChargedToTheForwardedClient() async throws {
        let h = try await Harness(trustedProxies: Self.loopbackProxy)
        try await h.test(.live) { client in
            let first = try await failLogins(client, from: "198.51.100.1", count: 51, tag: "a")
            #expect(first.prefix(50).allSatisfy { $0.status == .unauthorized })
            expectOAuthError(first[50], "too_many_attempts", .tooManyRequests)
            #expect(first[50].headers[.retryAfter] == "1")
            // Another client behind the same proxy is not locked out by the first.
            let other = try await failLogins(client, from: "198.51.100.2", count: 1, tag: "b")
            expectOAuthError(other[0], "access_denied", .unauthorized)
            #expect(try await client.login().isEmpty == false, "the proxy's own address was not charged")
        }
    }

    @Test func anUntrustedPeerCannotSpreadItsFailuresOverForgedAddresses() async throws {
        let h = try await Harness()
        try await h.test(.live) { client in
            for i in 0..<50 {
                let reply = try await failLogins(client, from: "198.51.100.\(i)", count: 1, tag: "\(i)")
                expectOAuthError(reply[0], "access_denied", .unauthorized)
            }
            let blocked = try await failLogins(client, from: "198.51.100.200", count: 1, tag: "x")
            expectOAuthError(blocked[0], "too_many_attempts", .tooManyRequests)
        }
    }

    @Test func codeGuessesAreChargedToTheAddressTheSessionLoggedInFrom() async throws {
        // The SSH front's children all reach the HTTP API from the replica's own address; the
        // address budget must follow the person's address (recorded at login), not that one.
        let h = try await Harness(trustedProxies: Self.loopbackProxy)
        _ = try await h.store.addUser(name: "carol", passwordHash: PasswordHasher.hash("carol's password"))
        try await h.test(.live) { client in
            func session(_ user: String, _ password: String, from address: String) async throws -> String {
                let body = "{\"username\":\"\(user)\",\"password\":\"\(password)\"}"
                let reply = try await client.raw("/consent/login", method: .post, body: body,
                                                 headers: [.contentType: "application/json", HTTPField.Name("X-Forwarded-For")!: address])
                return try #require(reply.string("session"), "\(reply.raw)")
            }
            // alice and bob spend 20 wrong codes, logged in from one address, looking up from the proxy.
            for (user, password) in [("alice", Harness.alicePassword), ("bob", "bob's password")] {
                for _ in 0..<2 {
                    let token = try await session(user, password, from: "198.51.100.1")
                    for _ in 0..<5 {
                        expectOAuthError(try await client.json("/consent/lookup", ["user_code": "ZZZZ-ZZZZ"], bearer: token), "invalid_grant", .badRequest)
                    }
                }
            }
            // carol, logged in elsewhere, is not blocked; the same address is.
            let elsewhere = try await session("carol", "carol's password", from: "198.51.100.2")
            expectOAuthError(try await client.json("/consent/lookup", ["user_code": "ZZZZ-ZZZZ"], bearer: elsewhere), "invalid_grant", .badRequest)
            let same = try await session("carol", "carol's password", from: "198.51.100.1")
            expectOAuthError(try await client.json("/consent/lookup", ["user_code": "ZZZZ-ZZZZ"], bearer: same), "too_many_attempts", .tooManyRequests)
        }
    }
}
