import Crypto
import Foundation
import HallpassCore
import HallpassResource
import Hummingbird
import HummingbirdTesting
import Testing

/// DPoP-bound tokens at a resource server protected by `BearerTokenMiddleware` (RFC 9449 §7):
/// the proof of every request, its binding to the token and its key, replay, and the challenges.
@Suite struct DPoPMiddlewareTests {
    struct Context: AccessTokenRequestContext {
        var coreContext: CoreRequestContextStorage
        var accessToken: VerifiedAccessToken?
        init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
    }

    static let api = "https://api.example/notes"
    let clock = ManualClock()
    let issuer = AccessTokenVerifierTests.Issuer(kids: ["k1"])
    let key = DPoPKey.generate()

    func app(requireDPoP: Bool = false, base: String? = "https://api.example/") -> some ApplicationProtocol {
        let verifier = AccessTokenVerifier(policy: VerifierPolicy(issuer: AccessTokenVerifierTests.issuer), keys: issuer, clock: clock)
        let router = Router(context: Context.self)
        router.group("notes")
            .add(middleware: BearerTokenMiddleware(verifier: verifier, requiring: ScopeSet(["read"]),
                                                   dpop: DPoPOptions(publicBaseURL: base, requireDPoP: requireDPoP),
                                                   clock: clock))
            .get { _, context in context.accessToken?.claims.sub ?? "" }
        return Application(router: router)
    }

    func token(boundTo jkt: String?) async throws -> String {
        var claims = AccessTokenVerifierTests.Claims()
        claims.cnf = jkt.map { ["jkt": $0] }
        return try await AccessTokenVerifierTests.sign(claims, with: try #require(issuer.key("k1")), kid: "k1")
    }

    func call(_ client: some TestClientProtocol, _ authorization: String?, proof: String? = nil) async throws
        -> (HTTPResponse.Status, String?, String)
    {
        var headers: HTTPFields = [:]
        if let authorization { headers[.authorization] = authorization }
        if let proof { headers[HTTPFields.Element.Name("DPoP")!] = proof }
        return try await client.execute(uri: "/notes", method: .get, headers: headers) { response in
            (response.status, response.headers[.wwwAuthenticate], String(buffer: response.body))
        }
    }

    @Test func aBoundTokenPassesWithItsProofAndEveryForgeryIsRefused() async throws {
        let bound = try await token(boundTo: key.thumbprint)
        let good = key.proof(method: "GET", uri: Self.api + "?page=2", accessToken: bound, at: clock.now)
        try await app().test(.router) { client in
            let (status, _, body) = try await call(client, "DPoP \(bound)", proof: good)
            #expect(status == .ok && body == "7", "\(body)")
            let forgeries: [(String, String?, DPoPProof.Refusal)] = [
                ("replayed", good, .replayed),
                ("no proof", nil, .missing),
                ("another method", key.proof(method: "POST", uri: Self.api, accessToken: bound, at: clock.now),
                 .method(expected: "GET", got: "POST")),
                ("another URL", key.proof(method: "GET", uri: "https://api.example/other", accessToken: bound, at: clock.now),
                 .uri(expected: Self.api, got: "https://api.example/other")),
                ("too old", key.proof(method: "GET", uri: Self.api, accessToken: bound, at: clock.now - 120), .tooOld(seconds: 120)),
                ("another key", DPoPKey.generate().proof(method: "GET", uri: Self.api, accessToken: bound, at: clock.now), .keyMismatch),
                ("no ath", key.proof(method: "GET", uri: Self.api, at: clock.now), .missingClaim("ath")),
                ("a private key in its header", Self.withPrivateKey(method: "GET", uri: Self.api, token: bound, at: clock.now),
                 .privateKey("d")),
            ]
            for (name, proof, refusal) in forgeries {
                let (status, challenge, body) = try await call(client, "DPoP \(bound)", proof: proof)
                #expect(status == .unauthorized, "\(name)")
                #expect(challenge?.hasPrefix("DPoP algs=\"EdDSA Ed25519 ES256 PS256 RS256\", error=\"invalid_dpop_proof\"") == true,
                        "\(name): \(challenge ?? "")")
                #expect(!body.contains(refusal.description), "\(name): the wire says no more than invalid")
            }
            // RFC 9449 §7.2: a bound token is no bearer token.
            let (asBearer, challenge, _) = try await call(client, "Bearer \(bound)")
            #expect(asBearer == .unauthorized && challenge?.contains("DPoP algs=") == true && challenge?.contains("invalid_token") == true)
            // An unbound token with a proof is not bound to the proof's key.
            let plain = try await token(boundTo: nil)
            let (unbound, _, _) = try await call(client, "DPoP \(plain)",
                                                 proof: key.proof(method: "GET", uri: Self.api, accessToken: plain, at: clock.now))
            #expect(unbound == .unauthorized)
            let (bearer, _, _) = try await call(client, "Bearer \(plain)")
            #expect(bearer == .ok)
            let (none, bothChallenges, _) = try await call(client, nil)
            #expect(none == .unauthorized && bothChallenges == "Bearer realm=\"api\", DPoP algs=\"EdDSA Ed25519 ES256 PS256 RS256\"")
        }
    }

    @Test func aResourceThatRequiresDPoPRefusesBearerTokens() async throws {
        let plain = try await token(boundTo: nil)
        try await app(requireDPoP: true).test(.router) { client in
            let (status, challenge, _) = try await call(client, "Bearer \(plain)")
            #expect(status == .unauthorized && challenge?.hasPrefix("DPoP ") == true && challenge?.contains("invalid_token") == true)
            let (_, onlyDPoP, _) = try await call(client, nil)
            #expect(onlyDPoP == "DPoP algs=\"EdDSA Ed25519 ES256 PS256 RS256\"")
        }
        #expect(TokenRejection.notDPoPBound.description.contains("DPoP-bound tokens only"))
    }

    /// Without its own URL a resource server cannot check `htu`, and it never guesses it from the
    /// Host header a stranger picks: DPoP is refused; bearer tokens still pass.
    @Test func withoutAPublicBaseURLDPoPIsRefused() async throws {
        let bound = try await token(boundTo: key.thumbprint)
        let plain = try await token(boundTo: nil)
        try await app(base: nil).test(.router) { client in
            var headers: HTTPFields = [.authorization: "DPoP \(bound)"]
            headers[HTTPFields.Element.Name("DPoP")!] = key.proof(method: "GET", uri: "http://api.example/notes", accessToken: bound, at: clock.now)
            let status = try await client.execute(uri: "/notes", method: .get, headers: headers) { $0.status }
            #expect(status == .unauthorized)
            let (bearer, _, _) = try await call(client, "Bearer \(plain)")
            #expect(bearer == .ok)
        }
        #expect(TokenRejection.dpopNotConfigured.errorCode == "invalid_token")
    }

    /// A proof whose header's JWK carries the private key `d` (the client has lost its key).
    static func withPrivateKey(method: String, uri: String, token: String, at now: Date) -> String {
        let signer = Curve25519.Signing.PrivateKey()
        let header: [String: Any] = ["typ": "dpop+jwt", "alg": "EdDSA",
                                     "jwk": ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(signer.publicKey.rawRepresentation),
                                             "d": Base64URL.encode(signer.rawRepresentation)]]
        let claims: [String: Any] = ["jti": "x", "htm": method, "htu": uri, "iat": Int(now.timeIntervalSince1970),
                                     "ath": DPoPProof.accessTokenHash(token)]
        let input = Base64URL.encode(try! JSONSerialization.data(withJSONObject: header)) + "."
            + Base64URL.encode(try! JSONSerialization.data(withJSONObject: claims))
        return input + "." + Base64URL.encode(try! signer.signature(for: Data(input.utf8)))
    }
}
