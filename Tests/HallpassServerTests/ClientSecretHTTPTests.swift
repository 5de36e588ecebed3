import Foundation
import HallpassCore
@testable import HallpassServer
import Hummingbird
import HummingbirdTesting
import Testing

/// A repeated correct client authentication is nearly free; a wrong one still costs Argon2id.
@Suite struct ClientSecretHTTPTests {
    /// `hallpass_client_secret_checks_total` by kind, read from this server's own registry.
    func checks(_ h: Harness) -> [String: Int] {
        let text = String(decoding: h.server.metrics.exposition(), as: UTF8.self)
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("hallpass_client_secret_checks_total{") {
            guard let open = line.firstIndex(of: "\""), let close = line[line.index(after: open)...].firstIndex(of: "\""),
                  let value = line.split(separator: " ").last.flatMap({ Int($0) }) else { continue }
            out[String(line[line.index(after: open)..<close])] = value
        }
        return out
    }

    func introspect(_ client: some TestClientProtocol, _ id: String, _ secret: String) async throws -> Reply {
        try await client.form("/oauth/introspect", [("token", "not-a-token")], headers: .basic(id, secret))
    }

    @Test func generatedSecretsAreCheckedByAKeyedHashThenRemembered() async throws {
        let h = try await Harness()
        let made = ClientSecret.generate(clientID: "api", random: SeededRandomSource(seed: 7))
        #expect(made.secret.count == 43 && ClientSecret.isGenerated(made.stored) && !made.stored.contains(made.secret))
        try await h.store.addClient(OAuthClient(id: "api", name: "API", secretHash: made.stored, scopes: ScopeSet(["read"]),
                                                grantTypes: [.deviceCode], canIntrospect: true))
        // The same stored hash under another id does not authenticate that id with this secret.
        try await h.store.addClient(OAuthClient(id: "copy", name: "Copy", secretHash: made.stored, scopes: ScopeSet(["read"]),
                                                grantTypes: [.deviceCode], canIntrospect: true))
        try await h.test { client in
            for _ in 0..<3 { #expect(try await introspect(client, "api", made.secret).raw == #"{"active":false}"#) }
            #expect(checks(h) == ["argon2id": 0, "hmac": 1, "cached": 2])
            expectOAuthError(try await introspect(client, "copy", made.secret), "invalid_client", .unauthorized)
            // A wrong secret is checked by the hash and then pays one Argon2id, like an unknown id.
            expectOAuthError(try await introspect(client, "api", made.secret + "x"), "invalid_client", .unauthorized)
            #expect(checks(h) == ["argon2id": 2, "hmac": 3, "cached": 2])
        }
    }

    @Test func chosenSecretsPayArgon2idOncePerMinuteAndEveryWrongOneInFull() async throws {
        let h = try await Harness()
        try await h.test { client in
            for _ in 0..<5 { #expect(try await introspect(client, "rs", Harness.confidentialSecret).status == .ok) }
            #expect(checks(h) == ["argon2id": 1, "hmac": 0, "cached": 4])
            for _ in 0..<3 { expectOAuthError(try await introspect(client, "rs", "wrong-wrong-wrong"), "invalid_client", .unauthorized) }
            #expect(checks(h)["argon2id"] == 4, "every wrong secret is a full verification, never cached")
            expectOAuthError(try await introspect(client, "ghost", "whatever"), "invalid_client", .unauthorized)
            #expect(checks(h)["argon2id"] == 5)
            // After the cache lifetime the correct secret is verified in full again.
            h.clock.advance(by: 61)
            #expect(try await introspect(client, "rs", Harness.confidentialSecret).status == .ok)
            #expect(checks(h) == ["argon2id": 6, "hmac": 0, "cached": 4])
        }
    }

    @Test func aNewSecretEndsTheOldOnesCachedSuccess() async throws {
        let h = try await Harness()
        try await h.test { client in
            #expect(try await introspect(client, "rs", Harness.confidentialSecret).status == .ok)
            #expect(try await introspect(client, "rs", Harness.confidentialSecret).status == .ok)
            #expect(checks(h)["cached"] == 1)
            // The operator replaces the secret (another process); the client cache forgets within 1 s.
            _ = try await h.store.removeClient(id: "rs")
            try await h.store.addClient(OAuthClient(id: "rs", name: "Resource server", secretHash: try PasswordHasher.hash("a-new-secret-here"),
                                                    scopes: ScopeSet(["read"]), grantTypes: [.deviceCode], canIntrospect: true))
            h.clock.advance(by: 2)
            expectOAuthError(try await introspect(client, "rs", Harness.confidentialSecret), "invalid_client", .unauthorized)
            #expect(checks(h)["cached"] == 1)
            #expect(try await introspect(client, "rs", "a-new-secret-here").status == .ok)
        }
    }

    @Test func storedFormsAndMalformedHashes() async throws {
        let stored = ClientSecret.storedForm(generated: "abc", clientID: "x")
        #expect(stored == ClientSecret.storedForm(generated: "abc", clientID: "x"))
        #expect(stored != ClientSecret.storedForm(generated: "abc", clientID: "y"))
        #expect(await ClientSecret.matches("abc", stored: stored, clientID: "x"))
        #expect(await !ClientSecret.matches("abd", stored: stored, clientID: "x"))
        #expect(await !ClientSecret.matches("abc", stored: ClientSecret.generatedPrefix + "!!", clientID: "x"))
        #expect(await !ClientSecret.matches("abc", stored: ClientSecret.generatedPrefix, clientID: "x"))
        #expect(await !ClientSecret.matches("abc", stored: "not a hash", clientID: "x"))
        // A chosen secret: Argon2id, checked on NIO's thread pool rather than the caller's thread.
        let chosen = try PasswordHasher.hash("a-chosen-secret")
        #expect(await ClientSecret.matches("a-chosen-secret", stored: chosen, clientID: "x"))
        #expect(await !ClientSecret.matches("a-chosen-secreT", stored: chosen, clientID: "x"))
    }
}
