import Foundation
import HallpassCore
import Hummingbird

/// A request context that carries the verified access token to the route.
public protocol AccessTokenRequestContext: RequestContext {
    var accessToken: VerifiedAccessToken? { get set }
}

/// Protects routes with `AccessTokenVerifier` (RFC 6750): `Authorization: Bearer …` is required;
/// a refusal is 401 `invalid_token` (or 403 `insufficient_scope` naming the scope needed, RFC
/// 6750 §3.1), with a `WWW-Authenticate` challenge and no detail that helps an attacker; a key set
/// that cannot be fetched is 503. The exact reason goes to the log at debug level.
public struct BearerTokenMiddleware<Context: AccessTokenRequestContext>: RouterMiddleware {
    let verifier: any AccessTokenChecking
    let scopes: ScopeSet
    let realm: String

    public init(verifier: any AccessTokenChecking, requiring scopes: ScopeSet = ScopeSet(), realm: String = "api") {
        self.verifier = verifier
        self.scopes = scopes
        self.realm = realm
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token = Self.bearer(request.headers[.authorization]) else {
            // RFC 6750 §3.1: a request without credentials gets the challenge and no error code.
            return Self.refusal(status: .unauthorized, challenge: "Bearer realm=\"\(realm)\"", body: nil)
        }
        switch await verifier.verify(token, requiring: scopes) {
        case .success(let verified):
            var context = context
            context.accessToken = verified
            return try await next(request, context)
        case .failure(let rejection):
            context.logger.debug("access token refused: \(rejection)")
            var challenge = "Bearer realm=\"\(realm)\", error=\"\(rejection.errorCode)\", error_description=\"\(rejection.publicDescription)\""
            let status: HTTPResponse.Status
            switch rejection {
            case .insufficientScope(let needed, _):
                challenge += ", scope=\"\(needed)\""
                status = .forbidden
            case .keysUnavailable:
                return Self.refusal(status: .serviceUnavailable, challenge: nil, body: rejection)
            default:
                status = .unauthorized
            }
            return Self.refusal(status: status, challenge: challenge, body: rejection)
        }
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
