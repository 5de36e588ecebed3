import Crypto
import Foundation
import HallpassCore
import Testing
import _CryptoExtras

/// RFC 9449's rules that need no memory (issue 16): each check of §4.3, the thumbprint of RFC
/// 7638, and the stateless server nonces of §8, with an injected clock.
@Suite struct DPoPProofTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let tokenURI = "https://auth.example/oauth/token"
    let key = DPoPKey.generate()

    func context(_ method: String = "POST", _ uri: String? = nil) -> DPoPProof.Context {
        DPoPProof.Context(method: method, uri: uri ?? tokenURI)
    }

    /// A proof with any header and claims, signed by `signer` (Ed25519).
    func forged(header: [String: Any], claims: [String: Any], signer: Curve25519.Signing.PrivateKey) -> String {
        func segment(_ object: [String: Any]) -> String {
            Base64URL.encode(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
        }
        let input = segment(header) + "." + segment(claims)
        return input + "." + Base64URL.encode(try! signer.signature(for: Data(input.utf8)))
    }

    func edHeader(_ signer: Curve25519.Signing.PrivateKey) -> [String: Any] {
        ["typ": "dpop+jwt", "alg": "EdDSA", "jwk": ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(signer.publicKey.rawRepresentation)]]
    }

    func claims(iat: Date? = nil) -> [String: Any] {
        ["jti": "j1", "htm": "POST", "htu": tokenURI, "iat": Int((iat ?? now).timeIntervalSince1970)]
    }

    @Test func aProofFromTheClientKeyIsAcceptedAndNamesItsKey() throws {
        for algorithm in DPoPKey.Algorithm.allCases {
            let key = DPoPKey.generate(algorithm)
            let proof = try DPoPProof.check(headers: [key.proof(method: "POST", uri: tokenURI + "?x=1#f", at: now)],
                                            context: context(), now: now)
            #expect(proof.thumbprint == key.thumbprint)
            #expect(proof.algorithm == algorithm.rawValue)
            #expect(try proof.replayKey != DPoPProof.parse(key.proof(method: "POST", uri: tokenURI, at: now)).replayKey)
        }
    }

    @Test func rsaProofsVerifyWithBothPaddings() throws {
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let pub = try rsa.publicKey.getKeyPrimitives()
        let header: [String: Any] = ["typ": "dpop+jwt", "jwk": ["kty": "RSA", "n": Base64URL.encode(pub.modulus), "e": Base64URL.encode(pub.publicExponent)]]
        for (alg, padding) in [("RS256", _RSA.Signing.Padding.insecurePKCS1v1_5), ("PS256", .PSS)] {
            var h = header
            h["alg"] = alg
            let input = Base64URL.encode(try JSONSerialization.data(withJSONObject: h)) + "."
                + Base64URL.encode(try JSONSerialization.data(withJSONObject: claims()))
            let signature = try rsa.signature(for: SHA256.hash(data: Data(input.utf8)), padding: padding)
            let proof = try DPoPProof.check(headers: [input + "." + Base64URL.encode(signature.rawRepresentation)],
                                            context: context(), now: now)
            #expect(proof.algorithm == alg)
            // The other padding's signature is not accepted under this alg.
            var other = h
            other["alg"] = alg == "RS256" ? "PS256" : "RS256"
            let swapped = Base64URL.encode(try JSONSerialization.data(withJSONObject: other)) + "."
                + Base64URL.encode(try JSONSerialization.data(withJSONObject: claims()))
            #expect(throws: DPoPProof.Refusal.badSignature) {
                try DPoPProof.check(headers: [swapped + "." + Base64URL.encode(signature.rawRepresentation)], context: context(), now: now)
            }
        }
    }

    /// RFC 7638 §3.1's example key and its thumbprint.
    @Test func thumbprintIsRFC7638() throws {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        let jwk = try PublicJWK(json: ["kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"])
        #expect(jwk.thumbprint == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
    }

    @Test func everyRuleOfSection4Point3Refuses() throws {
        let signer = Curve25519.Signing.PrivateKey()
        let other = Curve25519.Signing.PrivateKey()
        var withPrivate = edHeader(signer)
        withPrivate["jwk"] = ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(signer.publicKey.rawRepresentation),
                              "d": Base64URL.encode(signer.rawRepresentation)]
        var typJWT = edHeader(signer)
        typJWT["typ"] = "JWT"
        var algNone = edHeader(signer)
        algNone["alg"] = "none"
        var algHS = edHeader(signer)
        algHS["alg"] = "HS256"
        var noKey = edHeader(signer)
        noKey["jwk"] = nil
        var noJTI = claims()
        noJTI["jti"] = nil
        var stringIAT = claims()
        stringIAT["iat"] = "now"
        let good = forged(header: edHeader(signer), claims: claims(), signer: signer)
        let parts = good.split(separator: ".").map(String.init)
        var tamperedClaims = claims()
        tamperedClaims["jti"] = "j2"
        let tampered = parts[0] + "." + Base64URL.encode(try JSONSerialization.data(withJSONObject: tamperedClaims)) + "." + parts[2]
        let cases: [(String, [String], DPoPProof.Refusal)] = [
            ("none", [], .missing),
            ("two headers", [good, good], .severalHeaders),
            ("two parts", ["a.b"], .malformed("a proof is one JWT, three base64url parts separated by '.'")),
            ("typ JWT", [forged(header: typJWT, claims: claims(), signer: signer)], .wrongType("JWT")),
            ("alg none", [forged(header: algNone, claims: claims(), signer: signer)], .algorithm("none")),
            ("alg HS256", [forged(header: algHS, claims: claims(), signer: signer)], .algorithm("HS256")),
            ("no jwk", [forged(header: noKey, claims: claims(), signer: signer)], .missingKey),
            ("private key", [forged(header: withPrivate, claims: claims(), signer: signer)], .privateKey("d")),
            ("another key signed", [forged(header: edHeader(signer), claims: claims(), signer: other)], .badSignature),
            ("payload changed", [tampered], .badSignature),
            ("no jti", [forged(header: edHeader(signer), claims: noJTI, signer: signer)], .missingClaim("jti")),
            ("iat a string", [forged(header: edHeader(signer), claims: stringIAT, signer: signer)], .missingClaim("iat")),
            ("too old", [forged(header: edHeader(signer), claims: claims(iat: now - 61), signer: signer)], .tooOld(seconds: 61)),
            ("ahead", [forged(header: edHeader(signer), claims: claims(iat: now + 11), signer: signer)], .inFuture(seconds: 11)),
        ]
        for (name, headers, refusal) in cases {
            #expect(throws: refusal, "\(name)") { try DPoPProof.check(headers: headers, context: context(), now: now) }
        }
        #expect(throws: DPoPProof.Refusal.method(expected: "GET", got: "POST")) {
            try DPoPProof.check(headers: [good], context: context("GET"), now: now)
        }
        #expect(throws: DPoPProof.Refusal.uri(expected: "https://auth.example/oauth/userinfo", got: tokenURI)) {
            try DPoPProof.check(headers: [good], context: context("POST", "https://auth.example/oauth/userinfo"), now: now)
        }
    }

    /// What the review of RFC 9449 found: times a stranger writes never trap, the replay memory's
    /// horizon is bounded whatever `iat` says, `crit` refuses, cheap checks come before the
    /// signature, RFC 9864's `Ed25519` name is accepted, and an RSA key is bounded in size.
    @Test func hostileValuesAreRefusedNotTrappedOn() throws {
        let signer = Curve25519.Signing.PrivateKey()
        for (iat, refusal) in [(1e300, DPoPProof.Refusal.inFuture(seconds: Int.max)), (-1e300, .tooOld(seconds: Int.max))] {
            var c = claims()
            c["iat"] = iat
            #expect(throws: refusal) { try DPoPProof.check(headers: [forged(header: edHeader(signer), claims: c, signer: signer)],
                                                           context: context(), now: now) }
        }
        // Fresh by a nonce, iat far ahead: the memory keeps it no longer than the window.
        var ahead = claims()
        ahead["iat"] = 1e15
        ahead["nonce"] = "n"
        let proof = try DPoPProof.check(headers: [forged(header: edHeader(signer), claims: ahead, signer: signer)],
                                        context: context(), now: now, requireNonce: true, nonceIsValid: { $0 == "n" })
        #expect(proof.replayHorizon(DPoPProof.Freshness(), nonceLifetime: 180, now: now) == now + 181)
        var crit = edHeader(signer)
        crit["crit"] = ["exp"]
        #expect(throws: DPoPProof.Refusal.malformed("the header names critical extensions (crit), which are not supported")) {
            try DPoPProof.check(headers: [forged(header: crit, claims: claims(), signer: signer)], context: context(), now: now)
        }
        // A wrong method is named before a bad signature is even checked.
        var post = claims()
        post["htm"] = "PUT"
        #expect(throws: DPoPProof.Refusal.method(expected: "POST", got: "PUT")) {
            try DPoPProof.check(headers: [forged(header: edHeader(signer), claims: post, signer: Curve25519.Signing.PrivateKey())],
                                context: context(), now: now)
        }
        var named = edHeader(signer)
        named["alg"] = "Ed25519"
        _ = try DPoPProof.check(headers: [forged(header: named, claims: claims(), signer: signer)], context: context(), now: now)
        let huge = Base64URL.encode([UInt8](repeating: 0xFF, count: 1025))
        #expect(throws: PublicJWK.Refusal.invalid("an RSA key of over 8192 bits is not accepted")) {
            try PublicJWK(json: ["kty": "RSA", "n": huge, "e": "AQAB"])
        }
        #expect(Int(clamping: Double.nan) == 0 && Int(clamping: -Double.infinity) == .min && Int(clamping: 12.7) == 12)
    }

    @Test func targetURIsCompareNormalized() {
        let same = ["https://Auth.Example:443/oauth/token", "HTTPS://auth.example/oauth/%74oken", "https://auth.example/oauth/token?q#f"]
        for uri in same { #expect(DPoPProof.normalizedURI(uri) == "https://auth.example/oauth/token", "\(uri)") }
        #expect(DPoPProof.normalizedURI("http://a.example") == "http://a.example/")
        #expect(DPoPProof.normalizedURI("http://a.example:8080/x%2f") == "http://a.example:8080/x%2F")
        for bad in ["/oauth/token", "ftp://a.example/", "https://u:p@a.example/", "not a uri"] {
            #expect(DPoPProof.normalizedURI(bad) == nil, "\(bad)")
        }
    }

    @Test func anAccessTokenNeedsItsHashAndItsKey() throws {
        let token = "eyJ.a.b"
        var ctx = DPoPProof.Context(method: "GET", uri: "https://api.example/x", accessToken: token, boundThumbprint: key.thumbprint)
        _ = try DPoPProof.check(headers: [key.proof(method: "GET", uri: ctx.uri, accessToken: token, at: now)], context: ctx, now: now)
        #expect(throws: DPoPProof.Refusal.missingClaim("ath")) {
            try DPoPProof.check(headers: [key.proof(method: "GET", uri: ctx.uri, at: now)], context: ctx, now: now)
        }
        #expect(throws: DPoPProof.Refusal.accessTokenHashMismatch) {
            try DPoPProof.check(headers: [key.proof(method: "GET", uri: ctx.uri, accessToken: "other", at: now)], context: ctx, now: now)
        }
        ctx.boundThumbprint = DPoPKey.generate().thumbprint
        #expect(throws: DPoPProof.Refusal.keyMismatch) {
            try DPoPProof.check(headers: [key.proof(method: "GET", uri: ctx.uri, accessToken: token, at: now)], context: ctx, now: now)
        }
    }

    @Test func serverNoncesAreStatelessAndVouchForFreshness() throws {
        let nonces = DPoPNonce(step: 60, lifetime: 180)
        let secret = DPoPNonce.key(from: Data("shared signing key bytes".utf8))
        let rotated = DPoPNonce.key(from: Data("the next key".utf8))
        let nonce = nonces.issue(at: now, key: secret)
        #expect(nonces.isValid(nonce, at: now, keys: [secret]))
        #expect(nonces.isValid(nonce, at: now + 119, keys: [rotated, secret]))
        #expect(!nonces.isValid(nonce, at: now + 180, keys: [secret]))
        #expect(!nonces.isValid(nonce, at: now - 61, keys: [secret]))       // a step not yet begun
        #expect(!nonces.isValid(nonce, at: now, keys: [rotated]))
        #expect(!nonces.isValid(nonce + "A", at: now, keys: [secret]))
        #expect(!nonces.isValid("", at: now, keys: [secret]))

        let valid: (String) -> Bool = { nonces.isValid($0, at: self.now, keys: [secret]) }
        // Required: none, or one the server no longer honours, asks for a fresh one.
        let noNonce = key.proof(method: "POST", uri: tokenURI, at: now)
        #expect(throws: DPoPProof.Refusal.nonceMissing) {
            try DPoPProof.check(headers: [noNonce], context: context(), now: now, requireNonce: true, nonceIsValid: valid)
        }
        let stale = key.proof(method: "POST", uri: tokenURI, nonce: nonces.issue(at: now - 400, key: secret), at: now)
        #expect(throws: DPoPProof.Refusal.nonceStale) {
            try DPoPProof.check(headers: [stale], context: context(), now: now, requireNonce: true, nonceIsValid: valid)
        }
        #expect(DPoPProof.Refusal.nonceStale.wantsNonce && !DPoPProof.Refusal.replayed.wantsNonce)
        // A device whose clock is ten minutes slow still proves freshly with the server's nonce.
        let slowClock = key.proof(method: "POST", uri: tokenURI, nonce: nonce, at: now - 600)
        let proof = try DPoPProof.check(headers: [slowClock], context: context(), now: now, requireNonce: true, nonceIsValid: valid)
        #expect(proof.replayHorizon(DPoPProof.Freshness(), nonceLifetime: 180, now: now) == now + 181)
    }

    @Test func theKeyFileRoundTripsAndRefusesOtherContent() throws {
        for algorithm in DPoPKey.Algorithm.allCases {
            let key = DPoPKey.generate(algorithm)
            let again = try DPoPKey(fileContents: key.fileContents)
            #expect(again.thumbprint == key.thumbprint)
            #expect(again.algorithm == algorithm)
        }
        #expect(throws: DPoPKey.UnreadableKey.self) { try DPoPKey(fileContents: Data(#"{"kty":"OKP","crv":"Ed25519"}"#.utf8)) }
        #expect(throws: DPoPKey.UnreadableKey.self) { try DPoPKey(fileContents: Data("garbage".utf8)) }
    }
}
