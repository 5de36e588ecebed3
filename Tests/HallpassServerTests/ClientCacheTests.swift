import Foundation
import HallpassCore
import HallpassServer
import HallpassStore
import Hummingbird
import HummingbirdTesting
import Testing

/// Authentication remembers a registered client for one second (one store read less per poll);
/// a change made with the admin CLI is seen within that second, a new client at once.
@Suite struct ClientCacheTests {
    func authorize(_ client: any TestClientProtocol, _ id: String) async throws -> Reply {
        try await client.form("/oauth/device_authorization", [("client_id", id), ("scope", "read")])
    }

    @Test func aRemovedClientIsRefusedWithinASecond() async throws {
        let h = try await Harness()
        try await h.test { client in
            #expect(try await authorize(client, "kiosk").status == .ok)
            #expect(try await h.store.removeClient(id: "kiosk"))
            h.clock.advance(by: 0.5)
            #expect(try await authorize(client, "kiosk").status == .ok, "still remembered for the rest of the second")
            h.clock.advance(by: 0.5)
            expectOAuthError(try await authorize(client, "kiosk"), "invalid_client", .unauthorized)
        }
    }

    @Test func aNewClientWorksAtOnceAndUnknownIdsAreNotRemembered() async throws {
        let h = try await Harness()
        try await h.test { client in
            expectOAuthError(try await authorize(client, "newcomer"), "invalid_client", .unauthorized)
            try await h.store.addClient(OAuthClient(id: "newcomer", name: "New", secretHash: nil, scopes: ScopeSet(["read"]),
                                                    grantTypes: [.deviceCode]))
            #expect(try await authorize(client, "newcomer").status == .ok)
        }
    }

    @Test func aChangedSecretCountsWithinASecond() async throws {
        let h = try await Harness()
        try await h.test { client in
            let old = HTTPFields.basic("backend", Harness.confidentialSecret)
            let fields = [("scope", "read")]
            #expect(try await client.form("/oauth/device_authorization", fields, headers: old).status == .ok)
            #expect(try await h.store.removeClient(id: "backend"))
            try await h.store.addClient(OAuthClient(id: "backend", name: "Backend", secretHash: PasswordHasher.hash("a-new-secret-0123456789"),
                                                    scopes: ScopeSet(["read"]), grantTypes: [.deviceCode]))
            h.clock.advance(by: 1)
            expectOAuthError(try await client.form("/oauth/device_authorization", fields, headers: old), "invalid_client", .unauthorized)
            let new = HTTPFields.basic("backend", "a-new-secret-0123456789")
            #expect(try await client.form("/oauth/device_authorization", fields, headers: new).status == .ok)
        }
    }
}
