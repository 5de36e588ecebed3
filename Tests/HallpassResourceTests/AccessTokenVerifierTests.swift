import Crypto
import Foundation
import HallpassCore
import HallpassResource
import JWTKit
import Testing

/// The resource server's verifier (issue 16, part): every refusal of the forgery corpus that can
/// be built without DPoP, a rotated key found by refetching, and a flood of unknown `kid`s that
/// cannot make it fetch more than once per interval.
@Suite struct AccessTokenVerifierTests {
    static let issuer = "https://id.example"

    /// An issuer's signing key and the key set it publishes; counts fetches.
    final class Issuer: KeySetSource, @unchecked Sendable {
        let lock = NSLock()
        var published: [(kid: String, key: Curve25519.Signing.PrivateKey)] = []
        var served = 0

        init(kids: [String]) { published = kids.map { ($0, Curve25519.Signing.PrivateKey()) } }

        func keySet() async throws -> Data {
            lock.withLock { served += 1 }
            let keys = lock.withLock { published }.map { entry in
                ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(entry.key.publicKey.rawRepresentation),
                 "kid": entry.kid, "alg": "EdDSA", "use": "sig"]
            }
            return try JSONSerialization.data(withJSONObject: ["keys": keys])
        }

        func key(_ kid: String) -> Curve25519.Signing.PrivateKey? { lock.withLock { published.first { $0.kid == kid }?.key } }
        func rotate(adding kid: String) { lock.withLock { published.append((kid, Curve25519.Signing.PrivateKey())) } }
    }

    struct Claims: JWTPayload {
        var iss: String? = AccessTokenVerifierTests.issuer
        var aud: String? = AccessTokenVerifierTests.issuer
        var sub = "7"
        var exp: Int? = 1_800_000_000 + 3600
        var nbf: Int?
        var iat: Int? = 1_800_000_000
        var scope: String? = "openid read"
        var client_id: String? = "tv"
        var nonce: String?
        var cnf: [String: String]?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func sign(_ claims: Claims = Claims(), with key: Curve25519.Signing.PrivateKey, kid: String?, typ: String? = "at+jwt",
                     extraHeader: [String: JWTHeaderField] = [:]) async throws -> String {
        let collection = JWTKeyCollection()
        await collection.add(eddsa: EdDSA.PrivateKey(backing: key), kid: kid.map { JWKIdentifier(string: $0) })
        var header = JWTHeader()
        header.typ = typ
        for (name, value) in extraHeader { header.fields[name] = value }
        return try await collection.sign(claims, kid: kid.map { JWKIdentifier(string: $0) }, header: header)
    }

    static func unsigned(header: String, payload: String) -> String {
        Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8)) + "."
    }

    func verifier(_ issuer: Issuer, clock: ManualClock = ManualClock()) -> AccessTokenVerifier {
        AccessTokenVerifier(policy: VerifierPolicy(issuer: Self.issuer, leeway: 30, refetchInterval: 30), keys: issuer, clock: clock)
    }

    @Test func aGoodTokenVerifiesWithItsScopes() async throws {
        let issuer = Issuer(kids: ["k1"])
        let token = try await Self.sign(with: try #require(issuer.key("k1")), kid: "k1")
        let result = await verifier(issuer).verify(token, requiring: ScopeSet(["read"]))
        let verified = try result.get()
        #expect(verified.kid == "k1" && verified.scopes == ScopeSet(["openid", "read"]) && verified.claims.clientID == "tv")
    }

    @Test func theForgeryCorpusIsRefusedEachForItsReason() async throws {
        let issuer = Issuer(kids: ["k1"])
        let key = try #require(issuer.key("k1"))
        let attacker = Curve25519.Signing.PrivateKey()
        let good = try await Self.sign(with: key, kid: "k1")
        let parts = good.split(separator: ".").map(String.init)
        var otherClaims = Claims()
        otherClaims.scope = "admin"
        let swappedPayload = parts[0] + "." + (try await Self.sign(otherClaims, with: key, kid: "k1")).split(separator: ".")[1] + "." + parts[2]
        var expired = Claims(); expired.exp = 1_800_000_000 - 120
        var early = Claims(); early.nbf = 1_800_000_000 + 600
        var future = Claims(); future.iat = 1_800_000_000 + 600
        var otherIssuer = Claims(); otherIssuer.iss = "https://evil.example"
        var otherAudience = Claims(); otherAudience.aud = "https://api.other.example"
        var noExp = Claims(); noExp.exp = nil
        var idToken = Claims(); idToken.aud = "tv"; idToken.nonce = "n"; idToken.scope = nil
        let jwk: JWTHeaderField = .object(["kty": .string("OKP"), "crv": .string("Ed25519"),
                                           "x": .string(Base64URL.encode(attacker.publicKey.rawRepresentation))])
        let cases: [(String, String, (TokenRejection) -> Bool)] = [
            ("alg none", Self.unsigned(header: #"{"alg":"none","typ":"at+jwt","kid":"k1"}"#, payload: #"{"iss":"https://id.example"}"#),
             { $0 == .algorithmRefused("none") }),
            ("HS256", Self.unsigned(header: #"{"alg":"HS256","typ":"at+jwt","kid":"k1"}"#, payload: "{}") + "c2ln",
             { $0 == .algorithmRefused("HS256") }),
            ("jku", try await Self.sign(with: attacker, kid: "k1", extraHeader: ["jku": .string("https://evil.example/jwks")]),
             { $0 == .headerNamesAKey("jku") }),
            ("x5u", try await Self.sign(with: attacker, kid: "k1", extraHeader: ["x5u": .string("https://evil.example/c")]),
             { $0 == .headerNamesAKey("x5u") }),
            ("embedded jwk", try await Self.sign(with: attacker, kid: "k1", extraHeader: ["jwk": jwk]), { $0 == .headerNamesAKey("jwk") }),
            ("attacker key, server kid", try await Self.sign(with: attacker, kid: "k1"), { $0 == .badSignature }),
            ("payload swapped", swappedPayload, { $0 == .badSignature }),
            ("kid with path characters", try await Self.sign(with: attacker, kid: "../../etc/passwd' OR 1=1"),
             { if case .unknownKey(_, let published) = $0 { published == ["k1"] } else { false } }),
            ("expired", try await Self.sign(expired, with: key, kid: "k1"), { $0 == .expired(secondsAgo: 120) }),
            ("nbf ahead", try await Self.sign(early, with: key, kid: "k1"), { $0 == .notYetValid(inSeconds: 600) }),
            ("iat ahead", try await Self.sign(future, with: key, kid: "k1"), { $0 == .issuedInTheFuture(inSeconds: 600) }),
            ("other issuer", try await Self.sign(otherIssuer, with: key, kid: "k1"),
             { $0 == .wrongIssuer(expected: Self.issuer, got: "https://evil.example") }),
            ("other audience", try await Self.sign(otherAudience, with: key, kid: "k1"),
             { $0 == .wrongAudience(expected: Self.issuer, got: ["https://api.other.example"]) }),
            ("no exp", try await Self.sign(noExp, with: key, kid: "k1"), { $0 == .missingClaim("exp") }),
            ("typ JWT", try await Self.sign(with: key, kid: "k1", typ: "JWT"),
             { if case .notAnAccessToken(let typ, _) = $0 { typ == "JWT" } else { false } }),
            ("an ID token", try await Self.sign(idToken, with: key, kid: "k1", typ: "JWT"),
             { $0 == .notAnAccessToken(typ: "JWT", looksLikeIDToken: true) }),
            ("a refresh token", "rt_" + String(repeating: "A", count: 43), { $0 == .malformed(.hallpassSecret("refresh token")) }),
            ("two parts", "abc.def", { $0 == .malformed(.parts(2)) }),
            ("header not JSON", "bm90IGpzb24.e30.", { $0 == .malformed(.header) }),
        ]
        let clock = ManualClock()
        let v = verifier(issuer, clock: clock)
        for (name, token, expected) in cases {
            switch await v.verify(token) {
            case .success: Issue.record("\(name) was accepted")
            case .failure(let rejection):
                #expect(expected(rejection), "\(name): \(rejection)")
                #expect(["invalid_token"].contains(rejection.errorCode), "\(name)")
                #expect(!rejection.publicDescription.contains("k1"), "\(name): the wire says nothing of keys")
            }
        }
        // Within the leeway (30 s) a just-expired token still passes.
        var justExpired = Claims(); justExpired.exp = 1_800_000_000 - 10
        #expect((try? await v.verify(try await Self.sign(justExpired, with: key, kid: "k1")).get()) != nil)
    }

    @Test func aMissingScopeIsInsufficientScopeNamingWhatIsNeeded() async throws {
        let issuer = Issuer(kids: ["k1"])
        let token = try await Self.sign(with: try #require(issuer.key("k1")), kid: "k1")
        guard case .failure(let rejection) = await verifier(issuer).verify(token, requiring: ScopeSet(["write"])) else {
            Issue.record("accepted without the scope"); return
        }
        #expect(rejection.errorCode == "insufficient_scope" && rejection.publicDescription.contains("write"))
    }

    @Test func aRotatedKeyIsFoundAndUnknownKidsCannotHammerTheIssuer() async throws {
        let issuer = Issuer(kids: ["k1"])
        let clock = ManualClock()
        let v = verifier(issuer, clock: clock)
        let old = try await Self.sign(with: try #require(issuer.key("k1")), kid: "k1")
        #expect((try? await v.verify(old).get()) != nil)
        #expect(await v.fetches == 1)
        // A flood of made-up kids within the interval: no fetch at all; after it, one.
        for i in 0..<50 {
            _ = await v.verify(try await Self.sign(with: Curve25519.Signing.PrivateKey(), kid: "bogus-\(i)"))
        }
        #expect(await v.fetches == 1)
        clock.advance(by: 31)
        for i in 0..<50 {
            _ = await v.verify(try await Self.sign(with: Curve25519.Signing.PrivateKey(), kid: "bogus-\(i)"))
        }
        #expect(await v.fetches == 2)
        // Rotation: the issuer adds k2; after the interval the first token with k2 refetches and
        // verifies, and k1's tokens keep verifying while k1 is published.
        issuer.rotate(adding: "k2")
        clock.advance(by: 31)
        let new = try await Self.sign(with: try #require(issuer.key("k2")), kid: "k2")
        #expect((try? await v.verify(new).get())?.kid == "k2")
        #expect((try? await v.verify(old).get())?.kid == "k1")
        #expect(await v.fetches == 3 && issuer.served == 3)
    }

    /// A burst of requests at start (or right after a rotation) waits for the one fetch under way
    /// instead of being refused for a key a moment from being known.
    @Test func aBurstAtStartWaitsForTheOneFetch() async throws {
        struct Slow: KeySetSource {
            let issuer: Issuer
            func keySet() async throws -> Data {
                try await Task.sleep(for: .milliseconds(100))
                return try await issuer.keySet()
            }
        }
        let issuer = Issuer(kids: ["k1"])
        let token = try await Self.sign(with: try #require(issuer.key("k1")), kid: "k1")
        let verifier = AccessTokenVerifier(policy: VerifierPolicy(issuer: Self.issuer, refetchInterval: 30),
                                           keys: Slow(issuer: issuer), clock: ManualClock())
        let passed = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 { group.addTask { (try? await verifier.verify(token).get()) != nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(passed == 50)
        #expect(await verifier.fetches == 1)
    }

    @Test func anUnreachableIssuerIsTheServersFaultNotTheTokens() async throws {
        struct Down: KeySetSource { func keySet() async throws -> Data { throw URLError(.cannotConnectToHost) } }
        let v = AccessTokenVerifier(policy: VerifierPolicy(issuer: Self.issuer), keys: Down(), clock: ManualClock())
        let token = try await Self.sign(with: Curve25519.Signing.PrivateKey(), kid: "k1")
        guard case .failure(let rejection) = await v.verify(token), case .keysUnavailable = rejection else {
            Issue.record("expected keysUnavailable"); return
        }
        #expect(rejection.errorCode == "temporarily_unavailable")
    }
}

/// RFC 7662 mode: the issuer's answer decides, cached for a few seconds and never past `exp`.
@Suite struct IntrospectionVerifierTests {
    final class Issuer: IntrospectionVerifier.Transport, @unchecked Sendable {
        let lock = NSLock()
        var answers: [String: [String: Any]] = [:]
        var asked = 0
        func introspect(_ token: String) async throws -> Data {
            let answer = lock.withLock { asked += 1; return answers[token] ?? ["active": false] }
            return try JSONSerialization.data(withJSONObject: answer)
        }
        func set(_ token: String, _ answer: [String: Any]) { lock.withLock { answers[token] = answer } }
    }

    nonisolated(unsafe) static let active: [String: Any] = ["active": true, "iss": "https://id.example", "aud": "https://id.example",
                                        "exp": 1_800_000_000 + 3600, "scope": "openid read", "client_id": "tv", "sub": "7",
                                        "token_type": "Bearer"]

    @Test func activeAnswersPassAndAreCachedARevocationBitesAfterTheCache() async throws {
        let issuer = Issuer()
        issuer.set("t1", Self.active)
        let clock = ManualClock()
        let v = IntrospectionVerifier(policy: VerifierPolicy(issuer: "https://id.example"), transport: issuer, clock: clock, cacheLifetime: 5)
        #expect((try? await v.verify("t1", requiring: ScopeSet(["read"])).get())?.claims.clientID == "tv")
        _ = await v.verify("t1", requiring: ScopeSet())
        #expect(await v.calls == 1)
        guard case .failure(let scope) = await v.verify("t1", requiring: ScopeSet(["write"])) else { Issue.record("scope"); return }
        #expect(scope.errorCode == "insufficient_scope")
        issuer.set("t1", ["active": false])
        clock.advance(by: 6)
        guard case .failure(let revoked) = await v.verify("t1", requiring: ScopeSet()) else { Issue.record("revoked"); return }
        let calls = await v.calls
        #expect(revoked == .inactive && calls == 2)
    }

    @Test func refreshTokensOtherIssuersAndUnreachableIssuersAreRefused() async throws {
        let issuer = Issuer()
        var refresh = Self.active
        refresh["token_type"] = "refresh_token"
        issuer.set("rt", refresh)
        var other = Self.active
        other["iss"] = "https://evil.example"
        issuer.set("other", other)
        let v = IntrospectionVerifier(policy: VerifierPolicy(issuer: "https://id.example"), transport: issuer, clock: ManualClock())
        guard case .failure(.notAnAccessToken) = await v.verify("rt", requiring: ScopeSet()) else { Issue.record("refresh token"); return }
        guard case .failure(.wrongIssuer) = await v.verify("other", requiring: ScopeSet()) else { Issue.record("issuer"); return }
        struct Down: IntrospectionVerifier.Transport { func introspect(_ token: String) async throws -> Data { throw URLError(.timedOut) } }
        let down = IntrospectionVerifier(policy: VerifierPolicy(issuer: "https://id.example"), transport: Down(), clock: ManualClock())
        guard case .failure(let failure) = await down.verify("t", requiring: ScopeSet()) else { Issue.record("down"); return }
        #expect(failure.errorCode == "temporarily_unavailable")
    }
}

extension AccessTokenVerifierTests {
    @Test func aRememberedSignatureStillHasItsExpiryAndScopesChecked() async throws {
        let issuer = Issuer(kids: ["k1"])
        let clock = ManualClock()
        let v = verifier(issuer, clock: clock)
        var claims = Claims()
        claims.exp = 1_800_000_000 + 100
        let token = try await Self.sign(claims, with: try #require(issuer.key("k1")), kid: "k1")
        #expect((try? await v.verify(token).get()) != nil)
        // Remembered now: the scope is still checked per route, the expiry on every call.
        guard case .failure(.insufficientScope) = await v.verify(token, requiring: ScopeSet(["write"])) else {
            Issue.record("a remembered token skipped the scope check"); return
        }
        clock.advance(by: 140)
        guard case .failure(.expired) = await v.verify(token) else { Issue.record("a remembered token skipped the expiry"); return }
    }
}
