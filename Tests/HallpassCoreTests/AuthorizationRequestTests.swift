import Foundation
import HallpassCore
import Testing

/// RFC 6749 §4.1.1–4.1.2.1, RFC 7636 §4.3, RFC 9207, OpenID Connect Core §3.1.2.1: the rules of
/// an authorization request, and of the code and answers derived from it.
@Suite struct AuthorizationRequestTests {
    static let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"   // RFC 7636 Appendix B

    let web = OAuthClient(id: "webapp", name: "Wiki", secretHash: nil, scopes: ScopeSet(["openid", "read"]),
                          grantTypes: [.authorizationCode],
                          redirectURIs: [try! RedirectURI(registering: "https://app.example/cb"),
                                         try! RedirectURI(registering: "https://app.example/other?x=1")])
    let native = OAuthClient(id: "cli", name: "CLI", secretHash: nil, scopes: ScopeSet(["openid"]), grantTypes: [.authorizationCode],
                             redirectURIs: [try! RedirectURI(registering: "http://127.0.0.1/callback")])

    func parameters(_ pairs: [(String, String)]) -> AuthorizationRequest.Parameters {
        .init(pairs.map { (name: $0.0, value: $0.1) })
    }

    func valid(redirect: String? = "https://app.example/cb", _ extra: [(String, String)] = [], dropping: Set<String> = []) -> AuthorizationRequest.Parameters {
        var pairs = [("response_type", "code"), ("client_id", "webapp"), ("state", "s-1"),
                     ("code_challenge", Self.challenge), ("code_challenge_method", "S256")]
        if let redirect { pairs.append(("redirect_uri", redirect)) }
        pairs = pairs.filter { !dropping.contains($0.0) } + extra
        return parameters(pairs)
    }

    func refusal(_ p: AuthorizationRequest.Parameters, client: OAuthClient) -> AuthorizationRequest.Refusal? {
        do { _ = try AuthorizationRequest.check(p, client: client); return nil } catch { return error }
    }

    @Test func aSoundRequestIsBoundToItsRedirectChallengeStateAndNonce() throws {
        let (request, scopes) = try AuthorizationRequest.check(valid(extra: [("nonce", "n-1"), ("scope", "read")]), client: web)
        #expect(request == AuthorizationRequest(redirectURI: "https://app.example/cb", redirectURISent: true, state: "s-1",
                                                codeChallenge: Self.challenge, nonce: "n-1"))
        #expect(scopes == ScopeSet(["read"]))
        #expect(request.redirectHost == "app.example")
        // No scope: the client's ceiling (RFC 6749 §3.3).
        #expect(try AuthorizationRequest.check(valid(), client: web).scopes == ScopeSet(["openid", "read"]))
    }

    private func valid(extra: [(String, String)]) -> AuthorizationRequest.Parameters { valid(redirect: "https://app.example/cb", extra) }

    @Test func faultsOfTheClientOrRedirectURIAreNeverRedirected() {
        for p in [parameters([("client_id", "a"), ("client_id", "b")]), parameters([("response_type", "code")]),
                  parameters([("client_id", "")])] {
            #expect(throws: AuthorizationRequest.Refusal.self) { try p.clientID() }
        }
        let pageCases: [AuthorizationRequest.Parameters] = [
            valid(redirect: "https://evil.example/cb"),
            valid(redirect: nil),                                           // two registered, none named
            valid(redirect: "https://app.example/cb", [("redirect_uri", "https://app.example/cb")]),
            valid(redirect: "https://app.example/cb/"),                     // exact comparison
            valid(redirect: "https://APP.example/cb"),
            valid(redirect: "https://app.example/other?x=1&y=2"),
        ]
        for p in pageCases {
            guard case .page = refusal(p, client: web) else { Issue.record("expected an error page"); continue }
        }
        let unregistered = OAuthClient(id: "tv", name: "TV", secretHash: nil, scopes: ScopeSet(["openid"]), grantTypes: [.deviceCode])
        guard case .page = refusal(valid(), client: unregistered) else { Issue.record("no redirect URI registered"); return }
    }

    @Test func aLoopbackRegistrationMatchesAnyPortAndOnlyItsPath() throws {
        let p = { (uri: String) in self.parameters([("response_type", "code"), ("client_id", "cli"), ("redirect_uri", uri),
                                                    ("code_challenge", Self.challenge), ("code_challenge_method", "S256")]) }
        #expect(try AuthorizationRequest.check(p("http://127.0.0.1:49152/callback"), client: native).request.redirectURI
                == "http://127.0.0.1:49152/callback")
        for bad in ["http://127.0.0.1:49152/other", "http://localhost:49152/callback", "http://127.0.0.1.evil/callback",
                    "https://127.0.0.1:49152/callback"] {
            guard case .page = refusal(p(bad), client: native) else { Issue.record("\(bad) must not match"); continue }
        }
        // The only registration is used when none is named; a token request then need not name it.
        let defaulted = try AuthorizationRequest.check(parameters([("response_type", "code"), ("client_id", "cli"),
            ("code_challenge", Self.challenge), ("code_challenge_method", "S256")]), client: native).request
        #expect(defaulted.redirectURI == "http://127.0.0.1/callback" && !defaulted.redirectURISent)
    }

    /// A fault that goes back to the client: parameters added, parameters left out, the error.
    struct Fault: Sendable, CustomStringConvertible {
        var extra: [[String]] = []
        var dropping: Set<String> = []
        var code: String
        var description: String { "\(extra) without \(dropping.sorted()) → \(code)" }
    }

    static let faults: [Fault] = [
        Fault(extra: [["response_type", "token"]], dropping: ["response_type"], code: "unsupported_response_type"),
        Fault(dropping: ["response_type"], code: "invalid_request"),
        Fault(dropping: ["code_challenge"], code: "invalid_request"),
        Fault(extra: [["code_challenge_method", "plain"]], dropping: ["code_challenge_method"], code: "invalid_request"),
        Fault(dropping: ["code_challenge_method"], code: "invalid_request"),
        Fault(extra: [["code_challenge", "short"]], dropping: ["code_challenge"], code: "invalid_request"),
        Fault(extra: [["scope", "openid admin"]], code: "invalid_scope"),
        Fault(extra: [["scope", "bad\"scope"]], code: "invalid_scope"),
        Fault(extra: [["prompt", "none"]], code: "login_required"),
        Fault(extra: [["prompt", "login none"]], code: "invalid_request"),
        Fault(extra: [["request", "eyJhbGciOiJub25lIn0.e30."]], code: "request_not_supported"),
        Fault(extra: [["request_uri", "urn:example:r"]], code: "request_uri_not_supported"),
        Fault(extra: [["response_mode", "fragment"]], code: "invalid_request"),
        Fault(extra: [["scope", "read"], ["scope", "openid"]], code: "invalid_request"),
        Fault(extra: [["nonce", String(repeating: "n", count: 1025)]], code: "invalid_request"),
    ]

    @Test(arguments: faults)
    func otherFaultsRedirectWithState(fault: Fault) {
        let p = valid(redirect: "https://app.example/cb", fault.extra.map { ($0[0], $0[1]) }, dropping: fault.dropping)
        guard case .redirect(let error, let uri, let state) = refusal(p, client: web) else {
            Issue.record("expected a redirect for \(fault)")
            return
        }
        #expect(error.code.description == fault.code)
        #expect(uri == "https://app.example/cb" && state == "s-1")
    }

    @Test func unknownParametersAreIgnoredEvenRepeated() throws {
        // RFC 6749 §3.1 ignores what it does not define; RFC 8707 §2 repeats `resource`.
        let p = valid(redirect: "https://app.example/cb", [("resource", "https://a.example"), ("resource", "https://b.example")])
        #expect(try AuthorizationRequest.check(p, client: web).request.state == "s-1")
    }

    @Test func anOpenIDRequestMustNameItsRedirectURI() {
        let p = parameters([("response_type", "code"), ("client_id", "cli"), ("scope", "openid"),
                            ("code_challenge", Self.challenge), ("code_challenge_method", "S256")])
        guard case .page = refusal(p, client: native) else { Issue.record("OIDC Core 3.1.2.1: redirect_uri is required"); return }
    }

    @Test func registrationRefusesAddressesThatCouldNeverMatchOrWouldClash() {
        for bad in ["https://a.example:99999/cb", "https://a.example:0/cb", "https://a.example:0443/cb",
                    "https://a.example/../cb", "https://a.example/x/./cb", "https://a.example/%2e%2e/cb",
                    "https://*.example/cb", "https://a.example/cb?state=1", "https://a.example/cb?x=1&code=2",
                    "https://a.example/cb?iss=x", "http://[::1]:70000/cb"] {
            #expect(throws: RedirectURI.Invalid.self, "\(bad)") { try RedirectURI(registering: bad) }
        }
        for good in ["https://a.example:8443/cb", "https://a.example/cb?tenant=7", "http://[::1]/cb", "https://a.example/.well/cb"] {
            #expect((try? RedirectURI(registering: good)) != nil, "\(good)")
        }
        let loopback = try? RedirectURI(registering: "http://127.0.0.1/cb")
        #expect(loopback?.matches("http://127.0.0.1:49152/cb") == true)
        for bad in ["http://127.0.0.1:0/cb", "http://127.0.0.1:080/cb", "http://127.0.0.1:65536/cb"] {
            #expect(loopback?.matches(bad) == false, "\(bad)")
        }
    }

    @Test func aClientWithoutTheGrantIsUnauthorized() {
        var deviceOnly = web
        deviceOnly.grantTypes = [.deviceCode]
        guard case .redirect(let error, _, _) = refusal(valid(), client: deviceOnly) else { Issue.record("expected a redirect"); return }
        #expect(error.code == .unauthorizedClient)
    }

    @Test func answersAddToTheRedirectURIsQueryAndCarryIss() {
        #expect(AuthorizationRequest.response(to: "https://app.example/cb", [("code", "ac_1")], state: "a b&c", issuer: "https://id.example")
                == "https://app.example/cb?code=ac_1&state=a+b%26c&iss=https%3A%2F%2Fid.example")
        #expect(AuthorizationRequest.response(to: "https://app.example/other?x=1", [("code", "c")], state: nil, issuer: "i")
                == "https://app.example/other?x=1&code=c&iss=i")
        let error = AuthorizationRequest.errorResponse(to: "https://app.example/cb", OAuthError(.accessDenied, "no"), state: "s",
                                                       issuer: "i")
        #expect(error == "https://app.example/cb?error=access_denied&error_description=no&state=s&iss=i")
    }

    @Test func theCodeIsDerivedFromThePageHandleAndStoredOnlyHashed() {
        let random = SeededRandomSource(seed: 3)
        let handle = AuthorizationCode.pageHandle(using: random)
        #expect(AuthorizationCode.isPageHandle(handle))
        #expect(!AuthorizationCode.isPageHandle(handle + "x") && !AuthorizationCode.isPageHandle("page.js"))
        let code = AuthorizationCode.code(forPage: handle)
        #expect(code == AuthorizationCode.code(forPage: handle))           // every visit, the same code
        #expect(code.hasPrefix("ac_") && code.utf8.count == 46)             // 256 bits
        #expect(code != AuthorizationCode.code(forPage: AuthorizationCode.pageHandle(using: random)))
        #expect(AuthorizationCode.storedHash(forPage: handle) == SecretToken.hash(code))
        #expect(!code.contains(handle) && SecretToken.hash(handle) != SecretToken.hash(code))
    }

    @Test func approvalGivesABrowserSignInsCodeAMinute() throws {
        let clock = ManualClock()
        var grant = DeviceGrant(deviceCodeHash: "h", userCode: try UserCode(parsing: "BCDFGHJK"), clientID: "webapp",
                                requestedScopes: ScopeSet(["read"]), createdAt: clock.now, lifetime: 600, interval: 5,
                                deviceIP: "127.0.0.1", userAgent: "ua")
        var device = grant
        grant.authorization = AuthorizationRequest(redirectURI: "https://app.example/cb", redirectURISent: true, state: nil,
                                                   codeChallenge: Self.challenge, nonce: nil)
        clock.advance(by: 100)
        try grant.approve(by: 1, scopes: ScopeSet(["read"]), at: clock.now)
        try device.approve(by: 1, scopes: ScopeSet(["read"]), at: clock.now)
        #expect(grant.expiresAt == clock.now.addingTimeInterval(GrantPolicy.authorizationCodeLifetime))
        #expect(device.expiresAt == device.createdAt.addingTimeInterval(600))
        clock.advance(by: 61)
        #expect(grant.effectiveStatus(at: clock.now) == .expired)
        #expect(device.effectiveStatus(at: clock.now) == .approved)
    }

    @Test func registrationTiesRedirectURIsToTheGrant() throws {
        let uri = try RedirectURI(registering: "https://app.example/cb")
        #expect(throws: RegistrationError.missingRedirectURI) { try OAuthClient.validate(grantTypes: [.authorizationCode], redirectURIs: []) }
        #expect(throws: RegistrationError.redirectURIWithoutGrant) { try OAuthClient.validate(grantTypes: [.deviceCode], redirectURIs: [uri]) }
        try OAuthClient.validate(grantTypes: [.authorizationCode, .refreshToken], redirectURIs: [uri])
        let stored = OAuthClient(id: "w", name: "W", secretHash: nil, scopes: ScopeSet(["read"]), grantTypes: [.authorizationCode],
                                 redirectURIs: [uri, try RedirectURI(registering: "http://[::1]/cb")]).storedRedirectURIs
        #expect(OAuthClient.redirectURIs(stored: stored).map(\.value) == ["https://app.example/cb", "http://[::1]/cb"])
        #expect(OAuthClient.GrantType(shortName: "authorization_code") == .authorizationCode)
    }

    @Test func formPairsKeepRepeatsAndEncodingRoundTrips() throws {
        let pairs = try FormBody.pairs(parsing: Array("a=1&a=2&b=x%20y+z".utf8))
        #expect(pairs.map(\.name) == ["a", "a", "b"] && pairs[2].value == "x y z")
        #expect(throws: OAuthError.self) { try FormBody.pairs(parsing: Array("a=%zz".utf8)) }
        let text = "ü &=+/?#<>\"'"
        let encoded = FormBody.encode([("k", text)])
        #expect(try FormBody(parsing: Array(encoded.utf8))["k"] == text)
    }

    @Test func htmlEscapingLeavesNoMarkup() {
        #expect(HTMLText.escape("<script>\"a\" & 'b'</script>") == "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;")
        #expect(HTMLText.untrusted("evil\u{202E}txt.exe<") == "evil&lt;U+202E&gt;txt.exe&lt;")
    }
}
