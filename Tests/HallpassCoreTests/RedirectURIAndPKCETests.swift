import HallpassCore
import Testing

/// The two rules of the authorization code grant that are pure (issue 15): which redirect URIs
/// a client may register and which requests match them, and PKCE S256.
@Suite struct RedirectURIAndPKCETests {
    @Test func registrationIsHTTPSOrLoopbackHTTPAbsoluteAndWithoutFragment() throws {
        #expect(try !RedirectURI(registering: "https://app.example/callback").isLoopback)
        #expect(try RedirectURI(registering: "http://127.0.0.1/callback").isLoopback)
        #expect(try RedirectURI(registering: "http://[::1]:8080/cb?x=1").isLoopback)
        #expect(try !RedirectURI(registering: "https://127.0.0.1/cb").isLoopback)   // exact match only
        let refused: [(String, RedirectURI.Invalid)] = [
            ("/callback", .notAbsolute), ("https:///cb", .notAbsolute),
            ("https://app.example/cb#top", .fragment), ("https://app.example/cb#", .fragment),
            ("https://me:pw@app.example/cb", .userInfo), ("https://app.example/a b", .forbiddenCharacter),
            ("https://app.example/\u{7}", .forbiddenCharacter), ("https://bücher.example/", .forbiddenCharacter),
            ("http://app.example/cb", .scheme("http")), ("com.example.app:/cb", .scheme("com.example.app")),
            ("javascript:alert(1)", .scheme("javascript")), ("http://localhost/cb", .localhost),
            ("http://127.0.0.10/cb", .scheme("http")), ("http://127.0.0.1.evil.example/cb", .scheme("http")),
            ("http://127.0.0.1:99999/cb", .badPort),
            ("https://app.example/" + String(repeating: "a", count: 2000), .tooLong),
        ]
        for (text, reason) in refused {
            #expect(throws: reason, "\(text)") { try RedirectURI(registering: text) }
        }
        #expect(!RedirectURI.Invalid.fragment.description.contains("§"))  // fit for error_description
    }

    @Test func requestsMatchExactlyExceptALoopbackPort() throws {
        let web = try RedirectURI(registering: "https://app.example/callback")
        #expect(web.matches("https://app.example/callback"))
        for other in ["https://app.example/callback/", "https://APP.example/callback", "https://app.example:443/callback",
                      "https://app.example/callback?x=1", "https://app.example/Callback", "https://app.example/callback#",
                      "http://app.example/callback", "https://app.example/callback%2F", ""] {
            #expect(!web.matches(other), "\(other)")
        }
        let native = try RedirectURI(registering: "http://127.0.0.1/cb")
        for same in ["http://127.0.0.1/cb", "http://127.0.0.1:49152/cb", "http://127.0.0.1:1/cb"] {
            #expect(native.matches(same), "\(same)")
        }
        for other in ["http://127.0.0.1:49152/cb/", "http://127.0.0.1:49152/other", "http://127.0.0.1:/cb",
                      "http://127.0.0.1:65536/cb", "http://127.0.0.10:49152/cb", "http://[::1]:49152/cb",
                      "https://127.0.0.1:49152/cb", "http://127.0.0.1:49152/cb?x", "http://127.0.0.1.evil:1/cb"] {
            #expect(!native.matches(other), "\(other)")
        }
        let six = try RedirectURI(registering: "http://[::1]:3000")
        #expect(six.matches("http://[::1]:51000") && six.matches("http://[::1]") && !six.matches("http://[::1]:51000/"))
    }

    /// RFC 7636 Appendix B's example, and what must never pass.
    @Test func s256ChallengesAreCheckedAgainstTheVerifier() throws {
        let challenge = try PKCE.CodeChallenge(challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", method: "S256")
        #expect(challenge.isSatisfied(by: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"))
        #expect(!challenge.isSatisfied(by: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj"))
        #expect(!challenge.isSatisfied(by: ""))
        #expect(!challenge.isSatisfied(by: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"))  // no `plain` downgrade
        #expect(PKCE.isVerifier(String(repeating: "a", count: 43)) && PKCE.isVerifier(String(repeating: "~", count: 128)))
        #expect(!PKCE.isVerifier(String(repeating: "a", count: 42)) && !PKCE.isVerifier(String(repeating: "a", count: 129)))
        #expect(!PKCE.isVerifier(String(repeating: "a", count: 42) + "+") && !PKCE.isVerifier(String(repeating: "é", count: 43)))
        #expect(throws: PKCE.CodeChallenge.Invalid.missing) { try PKCE.CodeChallenge(challenge: nil, method: "S256") }
        #expect(throws: PKCE.CodeChallenge.Invalid.missing) { try PKCE.CodeChallenge(challenge: "", method: "S256") }
        #expect(throws: PKCE.CodeChallenge.Invalid.unsupportedMethod("plain")) {
            try PKCE.CodeChallenge(challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", method: nil)
        }
        #expect(throws: PKCE.CodeChallenge.Invalid.unsupportedMethod("plain")) {
            try PKCE.CodeChallenge(challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", method: "plain")
        }
        #expect(throws: PKCE.CodeChallenge.Invalid.malformed) { try PKCE.CodeChallenge(challenge: "short", method: "S256") }
        #expect(throws: PKCE.CodeChallenge.Invalid.malformed) {
            try PKCE.CodeChallenge(challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c=", method: "S256")
        }
        // The descriptions go into error_description: RFC 6749 section 5.2's characters once made into an OAuthError.
        #expect(OAuthError.isWireDescription(OAuthError(.invalidRequest, PKCE.CodeChallenge.Invalid.unsupportedMethod("pl\"ain").description).errorDescription ?? ""))
    }
}
