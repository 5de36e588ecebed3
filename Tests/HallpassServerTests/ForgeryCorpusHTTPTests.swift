import Crypto
import Foundation
import HallpassCore
import HallpassServer
import Hummingbird
import HummingbirdTesting
import Testing

/// Issue 16's forgery corpus against the server's own token checks: userinfo refuses every one
/// with `invalid_token` (RFC 6750 §3.1) and introspection answers `{"active":false}` and nothing
/// else (RFC 7662 §2.2), while the real token still works at both.
@Suite struct ForgeryCorpusHTTPTests {
    static func segment(_ object: [String: Any]) -> String {
        Base64URL.encode(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    static func signed(_ header: [String: Any], _ claims: [String: Any], with key: Curve25519.Signing.PrivateKey) -> String {
        let input = segment(header) + "." + segment(claims)
        return input + "." + Base64URL.encode(try! key.signature(for: Data(input.utf8)))
    }

    @Test func everyForgeryIsRefusedByUserinfoAndInactiveAtIntrospection() async throws {
        let h = try await Harness()
        try await h.test { client in
            let token = try await client.fullFlow()
            let access = try #require(token.string("access_token"))
            let parts = access.split(separator: ".").map(String.init)
            let headerBytes = try #require(Base64URL.decode(parts[0]))
            let claimBytes = try #require(Base64URL.decode(parts[1]))
            let header = try #require(try JSONSerialization.jsonObject(with: headerBytes) as? [String: Any])
            let claims = try #require(try JSONSerialization.jsonObject(with: claimBytes) as? [String: Any])
            let kid = try #require(header["kid"] as? String)
            let jwks = try await client.raw("/oauth/jwks.json")
            let published = try #require((jwks["keys"] as? [[String: Any]])?.first { $0["kid"] as? String == kid })
            let attacker = Curve25519.Signing.PrivateKey()
            let attackerHeader: [String: Any] = ["alg": "EdDSA", "typ": "at+jwt", "kid": kid]
            func with(_ changes: [String: Any]) -> [String: Any] { claims.merging(changes) { $1 } }
            func hs256(keyedWith secret: Data) -> String {
                let input = Self.segment(["alg": "HS256", "typ": "at+jwt", "kid": kid]) + "." + Self.segment(claims)
                return input + "." + Base64URL.encode(HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: secret)))
            }
            let publicKeyBytes = try JSONSerialization.data(withJSONObject: published, options: [.sortedKeys])
            let corpus: [(String, String)] = [
                ("alg none", Self.segment(["alg": "none", "typ": "at+jwt", "kid": kid]) + "." + Self.segment(claims) + "."),
                ("HS256 keyed with the public key", hs256(keyedWith: publicKeyBytes)),
                ("kid with path and SQL characters", Self.signed(["alg": "EdDSA", "typ": "at+jwt", "kid": "../../x' OR '1'='1"], claims, with: attacker)),
                ("jku", Self.signed(attackerHeader.merging(["jku": "http://127.0.0.1:1/jwks"]) { $1 }, claims, with: attacker)),
                ("x5u", Self.signed(attackerHeader.merging(["x5u": "http://127.0.0.1:1/cert"]) { $1 }, claims, with: attacker)),
                ("embedded jwk", Self.signed(attackerHeader.merging(["jwk": ["kty": "OKP", "crv": "Ed25519",
                                                                           "x": Base64URL.encode(attacker.publicKey.rawRepresentation)]]) { $1 },
                                             claims, with: attacker)),
                ("attacker key with the server's kid", Self.signed(attackerHeader, claims, with: attacker)),
                ("payload changed after signing", parts[0] + "." + Self.segment(with(["scope": "openid profile read write"])) + "." + parts[2]),
                ("another issuer", Self.signed(attackerHeader, with(["iss": "https://evil.example"]), with: attacker)),
                ("typ JWT", Self.signed(["alg": "EdDSA", "typ": "JWT", "kid": kid], claims, with: attacker)),
                ("an ID token", try #require(token.string("id_token"))),
                ("a refresh token string", try #require(token.string("refresh_token"))),
                ("garbage", "not-a-token"),
            ]
            for (name, forged) in corpus {
                let userinfo = try await client.raw("/oauth/userinfo", headers: [.authorization: "Bearer \(forged)"])
                expectOAuthError(userinfo, "invalid_token", .unauthorized)
                #expect(!userinfo.raw.contains(kid), "\(name): nothing that helps an attacker")
                let seen = try await client.form("/oauth/introspect", [("token", forged), ("token_type_hint", "access_token")],
                                                 headers: .basic("rs", Harness.confidentialSecret))
                if name == "a refresh token string" {
                    #expect(seen.string("token_type") == "refresh_token", "a live refresh token is active, and says what it is")
                } else {
                    #expect(seen.body.count == 1 && seen["active"] as? Bool == false, "\(name): \(seen.raw)")
                }
            }
            // Expired and not yet valid: the real token, with the clock moved.
            let good = try await client.raw("/oauth/userinfo", headers: [.authorization: "Bearer \(access)"])
            #expect(good.status == .ok)
            h.clock.advance(by: 3600 * 2)
            expectOAuthError(try await client.raw("/oauth/userinfo", headers: [.authorization: "Bearer \(access)"]), "invalid_token", .unauthorized)
            let expired = try await client.form("/oauth/introspect", [("token", access)], headers: .basic("rs", Harness.confidentialSecret))
            #expect(expired.body.count == 1 && expired["active"] as? Bool == false)
        }
    }
}
