import Foundation
import HallpassCore
import Synchronization

/// What `BearerTokenMiddleware` asks of a verifier: local (`AccessTokenVerifier`, JWT and keys)
/// or remote (`IntrospectionVerifier`, RFC 7662).
public protocol AccessTokenChecking: Sendable {
    func verify(_ token: String, requiring scopes: ScopeSet) async -> Result<VerifiedAccessToken, TokenRejection>
}

extension AccessTokenVerifier: AccessTokenChecking {}

/// Asks the issuer about every token (RFC 7662) for deployments where a revocation must bite at
/// once: an inactive answer is `invalid_token`; an active one is checked for issuer, audience
/// and scopes like a JWT. Answers are cached by the token's hash for `cacheLifetime` (a few
/// seconds: the delay a revocation may take to bite), never past the token's `exp`.
public actor IntrospectionVerifier: AccessTokenChecking {
    public protocol Transport: Sendable {
        /// POSTs `token` to the introspection endpoint with this resource server's credentials;
        /// the response body (HTTP 200) or a thrown error.
        func introspect(_ token: String) async throws -> Data
    }

    let policy: VerifierPolicy
    let transport: any Transport
    let clock: any WallClock
    let cacheLifetime: TimeInterval
    let maxEntries: Int
    private var cache: [String: (answer: Result<VerifiedAccessToken, TokenRejection>, until: Date)] = [:]
    /// Calls to the issuer (for tests and metrics).
    public private(set) var calls = 0

    public init(policy: VerifierPolicy, transport: any Transport, clock: any WallClock = SystemClock(),
                cacheLifetime: TimeInterval = 5, maxEntries: Int = 10_000) {
        self.policy = policy
        self.transport = transport
        self.clock = clock
        self.cacheLifetime = cacheLifetime
        self.maxEntries = maxEntries
    }

    public func verify(_ token: String, requiring scopes: ScopeSet = ScopeSet()) async -> Result<VerifiedAccessToken, TokenRejection> {
        let now = clock.now
        let key = SecretToken.hash(token)
        let answer: Result<VerifiedAccessToken, TokenRejection>
        if let cached = cache[key], cached.until > now {
            answer = cached.answer
        } else {
            answer = await ask(token, at: now)
            if case .failure(.keysUnavailable) = answer {} else { remember(answer, key: key, at: now) }
        }
        guard case .success(let verified) = answer else { return answer }
        guard scopes.isSubset(of: verified.scopes) else { return .failure(.insufficientScope(needed: scopes, granted: verified.scopes)) }
        return answer
    }

    private func remember(_ answer: Result<VerifiedAccessToken, TokenRejection>, key: String, at now: Date) {
        var until = now.addingTimeInterval(cacheLifetime)
        if case .success(let verified) = answer, let exp = verified.claims.exp { until = min(until, Date(timeIntervalSince1970: exp)) }
        if cache.count >= maxEntries { cache = cache.filter { $0.value.until > now } }
        if cache.count < maxEntries { cache[key] = (answer, until) }
    }

    private func ask(_ token: String, at now: Date) async -> Result<VerifiedAccessToken, TokenRejection> {
        calls += 1
        let data: Data
        do { data = try await transport.introspect(token) } catch { return .failure(.keysUnavailable("introspection failed: \(error)")) }
        struct Active: Decodable {
            var active: Bool
            var token_type: String?
        }
        guard let active = try? JSONDecoder().decode(Active.self, from: data) else {
            return .failure(.keysUnavailable("the introspection answer is not JSON with active"))
        }
        guard active.active, let claims = try? JSONDecoder().decode(CompactJWS.Claims.self, from: data) else {
            return .failure(.inactive)
        }
        // RFC 7662 §2.2 token_type: a refresh token is active too, and is no access token.
        if let type = active.token_type?.lowercased(), type == "refresh_token" {
            return .failure(.notAnAccessToken(typ: type, looksLikeIDToken: false))
        }
        guard let iss = claims.iss, iss == policy.issuer else { return .failure(.wrongIssuer(expected: policy.issuer, got: claims.iss ?? "")) }
        if let aud = claims.aud, !aud.contains(policy.audience) { return .failure(.wrongAudience(expected: policy.audience, got: aud)) }
        if let exp = claims.exp, now.timeIntervalSince1970 >= exp + policy.leeway {
            return .failure(.expired(secondsAgo: Int(clamping: now.timeIntervalSince1970 - exp)))
        }
        let scopes = ScopeSet((claims.scope ?? "").split(separator: " ").map(String.init))
        return .success(VerifiedAccessToken(claims: claims, scopes: scopes, kid: "introspection"))
    }
}

/// RFC 7662 §2.1 over HTTP: the endpoint from the issuer's metadata, HTTP Basic with this
/// resource server's client credentials (RFC 6749 §2.3.1, form-encoded id and secret).
public final class IntrospectionEndpoint: IntrospectionVerifier.Transport {
    let keySet: IssuerKeySet
    let clientID: String
    let clientSecret: String
    /// The endpoint named by the metadata, read once (not on every introspection).
    let resolved = Mutex<URL?>(nil)

    public init(issuer: URL, clientID: String, clientSecret: String) {
        keySet = IssuerKeySet(issuer: issuer)
        self.clientID = clientID
        self.clientSecret = clientSecret
    }

    func endpoint() async throws -> URL {
        if let known = resolved.withLock({ $0 }) { return known }
        struct Metadata: Decodable { var introspection_endpoint: String? }
        let metadata = try JSONDecoder().decode(Metadata.self, from: try await keySet.get(keySet.metadataURL))
        guard let endpoint = metadata.introspection_endpoint.flatMap(URL.init(string:)) else {
            throw IssuerKeySet.Failure.noIntrospectionEndpoint(keySet.metadataURL)
        }
        resolved.withLock { $0 = endpoint }
        return endpoint
    }

    public func introspect(_ token: String) async throws -> Data {
        let endpoint = try await endpoint()
        let credentials = "\(FormBody.escapeForBasic(clientID)):\(FormBody.escapeForBasic(clientSecret))"
        let (status, data) = try await ResourceHTTP.send(endpoint, method: .POST, headers: [
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + Data(credentials.utf8).base64EncodedString(),
        ], body: Data(FormBody.encode([("token", token), ("token_type_hint", "access_token")]).utf8))
        guard status == 200 else { throw IssuerKeySet.Failure.status(endpoint, status) }
        return data
    }
}
