import Foundation
import HallpassCore
import JWTKit

/// Where a verifier gets the issuer's published keys: the JWKS document's bytes (RFC 7517 §5).
public protocol KeySetSource: Sendable {
    func keySet() async throws -> Data
}

/// A verified RFC 9068 access token.
public struct VerifiedAccessToken: Sendable, Equatable {
    public var claims: CompactJWS.Claims
    public var scopes: ScopeSet
    /// The `kid` of the key it verified with.
    public var kid: String
}

/// What a resource server accepts (issue 16): its issuer and audience, the clock leeway, the
/// asymmetric algorithms it allows, and how often an unknown `kid` may make it fetch the keys again.
public struct VerifierPolicy: Sendable {
    public var issuer: String
    public var audience: String
    public var leeway: TimeInterval
    public var algorithms: Set<String>
    /// An unknown `kid` refetches the key set at most once per this interval, so a flood of
    /// tokens with made-up `kid`s cannot make the verifier hammer the issuer.
    public var refetchInterval: TimeInterval

    public init(issuer: String, audience: String? = nil, leeway: TimeInterval = 60,
                algorithms: Set<String> = ["EdDSA", "ES256", "RS256"], refetchInterval: TimeInterval = 30) {
        self.issuer = issuer
        self.audience = audience ?? issuer
        self.leeway = leeway
        self.algorithms = algorithms
        self.refetchInterval = refetchInterval
    }
}

/// Verifies RFC 9068 access tokens against the issuer's published keys: header first (no `none`,
/// no HMAC, no key named by the token itself, `typ` `at+jwt`), then the key by `kid` (fetched
/// again when unknown, within `refetchInterval`: a rotated key is found without a restart), the
/// signature, and the claims (`iss`, `aud`, `exp`, `nbf`, `iat` with leeway), then the scopes a
/// route needs. Every refusal is a `TokenRejection` that says exactly why.
public actor AccessTokenVerifier {
    let policy: VerifierPolicy
    let source: any KeySetSource
    let clock: any WallClock
    private var keys = JWTKeyCollection()
    private var kids: [String] = []
    private var lastFetch: Date?
    /// The key set fetch under way, if any.
    private var inFlight: Task<(JWTKeyCollection, [String]), any Error>?
    /// Tokens whose header, key and signature were checked, by SHA-256 of the token, for
    /// `signatureMemory` (60 s): the signature is the expensive part and cannot change for the same
    /// bytes. Claims (expiry) and scopes are checked on every request all the same.
    private var remembered: [String: (token: VerifiedAccessToken, until: Date)] = [:]
    let signatureMemory: TimeInterval = 60
    let maxRemembered = 10_000
    /// How many times the key set was fetched (for tests and metrics).
    public private(set) var fetches = 0

    public init(policy: VerifierPolicy, keys source: any KeySetSource, clock: any WallClock = SystemClock()) {
        self.policy = policy
        self.source = source
        self.clock = clock
    }

    /// The kids of the key set last fetched.
    public var publishedKids: [String] { kids }

    public func verify(_ token: String, requiring scopes: ScopeSet = ScopeSet()) async -> Result<VerifiedAccessToken, TokenRejection> {
        do {
            return .success(try await check(token, requiring: scopes))
        } catch let rejection as TokenRejection {
            return .failure(rejection)
        } catch {
            return .failure(.badSignature)
        }
    }

    func check(_ token: String, requiring required: ScopeSet) async throws -> VerifiedAccessToken {
        let key = SecretToken.hash(token)
        if let known = remembered[key], known.until > clock.now {
            try checkClaims(known.token.claims)
            guard required.isSubset(of: known.token.scopes) else {
                throw TokenRejection.insufficientScope(needed: required, granted: known.token.scopes)
            }
            return known.token
        }
        let verified = try await checkFully(token)
        remember(verified, key: key)
        guard required.isSubset(of: verified.scopes) else {
            throw TokenRejection.insufficientScope(needed: required, granted: verified.scopes)
        }
        return verified
    }

    private func remember(_ token: VerifiedAccessToken, key: String) {
        let now = clock.now
        if remembered.count >= maxRemembered { remembered = remembered.filter { $0.value.until > now } }
        guard remembered.count < maxRemembered else { return }
        remembered[key] = (token, now.addingTimeInterval(signatureMemory))
    }

    /// Header, key, signature and claims: everything but the route's scopes.
    func checkFully(_ token: String) async throws -> VerifiedAccessToken {
        let jws: CompactJWS
        do { jws = try CompactJWS(parsing: token) } catch { throw TokenRejection.malformed(error) }
        let header = jws.header, claims = jws.claims
        // RFC 8725 §3.1: the token does not choose how it is checked.
        for (field, present) in [("jku", header.jku != nil), ("x5u", header.x5u != nil), ("jwk", header.jwk != nil),
                                 ("x5c", header.x5c != nil), ("crit", header.crit != nil)] where present {
            throw TokenRejection.headerNamesAKey(field)
        }
        guard let alg = header.alg, policy.algorithms.contains(alg) else { throw TokenRejection.algorithmRefused(header.alg ?? "(none)") }
        // RFC 9068 §2.1, §4: `at+jwt` (or `application/at+jwt`), so an ID token is never accepted.
        let typ = header.typ?.lowercased()
        guard typ == "at+jwt" || typ == "application/at+jwt" else {
            throw TokenRejection.notAnAccessToken(typ: header.typ, looksLikeIDToken: claims.nonce != nil || claims.atHash != nil
                                                  || (claims.aud ?? []).contains { $0 != policy.audience } && claims.scope == nil)
        }
        guard let kid = header.kid else { throw TokenRejection.unknownKey(kid: nil, published: kids) }
        try await loadKeys(finding: kid)
        do {
            _ = try await keys.verify(token, as: SignatureOnly.self)
        } catch {
            throw TokenRejection.badSignature
        }
        try checkClaims(claims)
        let granted = ScopeSet((claims.scope ?? "").split(separator: " ").map(String.init))
        return VerifiedAccessToken(claims: claims, scopes: granted, kid: kid)
    }

    /// RFC 9068 §4 and RFC 7519 §4.1: issuer and audience exactly; times with the leeway.
    func checkClaims(_ claims: CompactJWS.Claims) throws {
        let now = clock.now.timeIntervalSince1970
        guard let iss = claims.iss else { throw TokenRejection.missingClaim("iss") }
        guard iss == policy.issuer else { throw TokenRejection.wrongIssuer(expected: policy.issuer, got: iss) }
        guard let aud = claims.aud, aud.contains(policy.audience) else {
            throw TokenRejection.wrongAudience(expected: policy.audience, got: claims.aud ?? [])
        }
        guard let exp = claims.exp else { throw TokenRejection.missingClaim("exp") }
        guard now < exp + policy.leeway else { throw TokenRejection.expired(secondsAgo: Int(clamping: now - exp)) }
        if let nbf = claims.nbf, nbf > now + policy.leeway { throw TokenRejection.notYetValid(inSeconds: Int(clamping: nbf - now)) }
        if let iat = claims.iat, iat > now + policy.leeway { throw TokenRejection.issuedInTheFuture(inSeconds: Int(clamping: iat - now)) }
    }

    /// The key set, fetched on first use and again when `kid` is unknown, at most once per
    /// `refetchInterval`. Requests that arrive while a fetch is under way wait for it (the actor
    /// is re-entered at the `await`): a burst at start or right after a rotation is not refused
    /// for a key that is a moment from being known.
    func loadKeys(finding kid: String) async throws {
        if kids.contains(kid) { return }
        if let inFlight, let (fresh, found) = try? await inFlight.value {
            (keys, kids) = (fresh, found)
            if kids.contains(kid) { return }
        }
        let now = clock.now
        if let lastFetch, now.timeIntervalSince(lastFetch) < policy.refetchInterval {
            throw TokenRejection.unknownKey(kid: kid, published: kids)
        }
        lastFetch = now
        fetches += 1
        let source = self.source
        let fetch = Task { try await Self.keys(from: source) }
        inFlight = fetch
        let result = await fetch.result
        inFlight = nil
        let (fresh, found) = try result.get()
        (keys, kids) = (fresh, found)
        guard kids.contains(kid) else { throw TokenRejection.unknownKey(kid: kid, published: kids) }
    }

    /// One fetch of the key set, made into a key collection and its kids.
    static func keys(from source: any KeySetSource) async throws -> (JWTKeyCollection, [String]) {
        let data: Data
        do { data = try await source.keySet() } catch { throw TokenRejection.keysUnavailable("\(error)") }
        guard let set = try? JSONDecoder().decode(JWKS.self, from: data) else { throw TokenRejection.keysUnavailable("the key set is not a JWKS") }
        let fresh = JWTKeyCollection()
        var found: [String] = []
        for key in set.keys {
            // A key this verifier cannot use (another type, no kid) is skipped, not fatal.
            guard let id = key.keyIdentifier?.string, (try? await fresh.add(jwk: key)) != nil else { continue }
            found.append(id)
        }
        return (fresh, found)
    }

    /// jwt-kit checks the signature; the claims are checked above, with this verifier's clock.
    struct SignatureOnly: JWTPayload {
        init(from decoder: any Decoder) throws {}
        func encode(to encoder: any Encoder) throws {}
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }
}
