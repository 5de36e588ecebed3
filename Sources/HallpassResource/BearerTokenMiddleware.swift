import Foundation
import HallpassCore
import Hummingbird

/// A request context that carries the verified access token to the route.
public protocol AccessTokenRequestContext: RequestContext {
    var accessToken: VerifiedAccessToken? { get set }
}

/// Protects routes with `AccessTokenVerifier` (RFC 6750), and DPoP-bound tokens with their
/// proofs (RFC 9449 §7): `Authorization: Bearer …` or `Authorization: DPoP …` with a `DPoP` proof
/// is required; a bound token presented as Bearer is refused. A refusal is 401 `invalid_token` or
/// `invalid_dpop_proof` (or 403 `insufficient_scope` naming the scope needed, RFC 6750 §3.1), with
/// a `WWW-Authenticate` challenge in the scheme the token came with and no detail that helps an
/// attacker; a key set that cannot be fetched is 503. The exact reason goes to the log at debug level.
public struct BearerTokenMiddleware<Context: AccessTokenRequestContext>: RouterMiddleware {
    let verifier: any AccessTokenChecking
    let scopes: ScopeSet
    let realm: String
    let dpop: DPoPResourceCheck

    public init(verifier: any AccessTokenChecking, requiring scopes: ScopeSet = ScopeSet(), realm: String = "api",
                dpop options: DPoPOptions = DPoPOptions(), replays: DPoPReplayMemory = DPoPReplayMemory(),
                clock: any WallClock = SystemClock()) {
        self.verifier = verifier
        self.scopes = scopes
        self.realm = realm
        self.dpop = DPoPResourceCheck(options: options, replays: replays, clock: clock)
    }

    /// RFC 9449 §7.1: the DPoP challenge names the algorithms a proof may use.
    static var dpopAlgorithms: String { "algs=\"\(DPoPProof.algorithms.joined(separator: " "))\"" }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let presented = PresentedAccessToken(authorization: request.headers[.authorization]) else {
            // RFC 6750 §3.1, RFC 9449 §7.1: a request without credentials gets the challenges of
            // the schemes it may use (DPoP alone where bearer tokens are refused), no error code.
            let challenge = dpop.options.requireDPoP ? "DPoP \(Self.dpopAlgorithms)"
                : "Bearer realm=\"\(realm)\", DPoP \(Self.dpopAlgorithms)"
            return Self.refusal(status: .unauthorized, challenge: challenge, body: nil)
        }
        let rejection: TokenRejection
        switch await verifier.verify(presented.token, requiring: scopes) {
        case .success(let verified):
            guard let refused = await dpop.refusal(for: request, presented: presented, token: verified) else {
                var context = context
                context.accessToken = verified
                return try await next(request, context)
            }
            rejection = refused
        case .failure(let refused):
            rejection = refused
        }
        // The reason can quote the token's own claims: through the sanitizer before any log.
        context.logger.debug("access token refused: \(TerminalText.sanitize(rejection.description))")
        if case .keysUnavailable = rejection { return Self.refusal(status: .serviceUnavailable, challenge: nil, body: rejection) }
        // The challenge is in the scheme the token should have come with.
        let dpopScheme = presented.scheme == .dpop || rejection == .dpopBoundPresentedAsBearer || dpop.options.requireDPoP
        var challenge = dpopScheme ? "DPoP \(Self.dpopAlgorithms), " : "Bearer realm=\"\(realm)\", "
        challenge += "error=\"\(rejection.errorCode)\", error_description=\"\(rejection.publicDescription)\""
        var status = HTTPResponse.Status.unauthorized
        if case .insufficientScope(let needed, _) = rejection {
            challenge += ", scope=\"\(needed)\""
            status = .forbidden
        }
        return Self.refusal(status: status, challenge: challenge, body: rejection)
    }

    /// RFC 6750 §2.1: `Bearer` (any case) and one token of token68 characters.
    static func bearer(_ header: String?) -> String? {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    static func refusal(status: HTTPResponse.Status, challenge: String?, body rejection: TokenRejection?) -> Response {
        var headers: HTTPFields = [.contentType: "application/json", .cacheControl: "no-store"]
        if let challenge { headers[.wwwAuthenticate] = challenge }
        var text = ""
        if let rejection {
            let body = ["error": rejection.errorCode, "error_description": rejection.publicDescription]
            text = (try? String(decoding: JSONEncoder().encode(body), as: UTF8.self)) ?? ""
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
