import Foundation
import HallpassCore
import Hummingbird

/// Every failure as the server answers it (ARCHITECTURE.md §4.2): the JSON `ErrorBody` (RFC 6749
/// §5.2), served `no-store`, with its HTTP status, and `Retry-After` / `WWW-Authenticate` when
/// they apply. Core's `OAuthError` and the consent API's `ConsentAPI.Failure` know codes and
/// descriptions only; the statuses and challenges are mapped here. Nothing else from the failure
/// reaches the wire.
struct ErrorAnswer: Error, HTTPResponseError, Equatable {
    var body: ErrorBody
    var status: HTTPResponse.Status
    /// The `WWW-Authenticate` challenge (RFC 6749 §5.2 for a client that authenticated with the
    /// Authorization header, RFC 6750 §3 for bearer tokens); every 401 gets one.
    var challenge: String?
    /// RFC 9449 §8.1, §9: the nonce a DPoP proof must carry next, in `DPoP-Nonce`.
    var dpopNonce: String?

    init(_ body: ErrorBody, status: HTTPResponse.Status, challenge: String? = nil, dpopNonce: String? = nil) {
        self.body = body
        self.status = status
        self.challenge = challenge ?? Self.defaultChallenge(status: status, code: body.error)
        self.dpopNonce = dpopNonce
    }

    /// An OAuth error with the status RFC 6749 §5.2, RFC 8628 §3.5 and RFC 6750 §3.1 give its
    /// code, or `status` where an endpoint's rule says otherwise (413, 415, 405 for the request
    /// itself); `retryAfter` for rate limits.
    init(_ error: OAuthError, status: HTTPResponse.Status? = nil, retryAfter: Int? = nil, challenge: String? = nil,
         dpopNonce: String? = nil) {
        var body = error.body
        body.retryAfter = retryAfter
        self.init(body, status: status ?? Self.status(of: error.code), challenge: challenge, dpopNonce: dpopNonce)
    }

    /// A consent API failure, with the status its code has on that API.
    init(_ failure: ConsentAPI.Failure) {
        self.init(failure.body, status: Self.status(of: failure.code))
    }

    /// No such endpoint (not an RFC 6749 code; the consent API's `not_found`).
    static func notFound(_ description: String) -> ErrorAnswer {
        ErrorAnswer(ConsentAPI.Failure(.notFound, description).body, status: .notFound)
    }

    /// RFC 6749 §5.2, RFC 8628 §3.5, RFC 6750 §3.1; every other code is 400.
    static let oauthStatuses: [OAuthError.Code: HTTPResponse.Status] = [
        .invalidClient: .unauthorized, .invalidToken: .unauthorized, .insufficientScope: .forbidden,
        .serverError: .internalServerError, .temporarilyUnavailable: .serviceUnavailable,
    ]

    /// The consent API's (ARCHITECTURE.md §4.4): a wrong password is 401 there, where the token
    /// endpoint's `access_denied` (the person said no) is 400. Every other code is 400.
    static let consentStatuses: [ConsentAPI.ErrorCode: HTTPResponse.Status] = [
        .loginRequired: .unauthorized, .accessDenied: .unauthorized, .notFound: .notFound,
        .alreadyDecided: .conflict, .tooManyAttempts: .tooManyRequests, .proximityRequired: .forbidden,
        // ARCHITECTURE.md §4.8: the user is not authenticated enough yet (RFC 9470 answers step-up with a 401 too).
        .otpRequired: .unauthorized, .invalidOTP: .unauthorized,
    ]

    static func status(of code: OAuthError.Code) -> HTTPResponse.Status { oauthStatuses[code] ?? .badRequest }

    static func status(of code: ConsentAPI.ErrorCode) -> HTTPResponse.Status { consentStatuses[code] ?? .badRequest }

    /// RFC 9110 §15.5.2: a 401 always carries a challenge. A client that failed to authenticate is
    /// told the scheme it may use (RFC 6749 §2.3.1, Basic); a consent API caller, the session
    /// bearer it must present (RFC 6750 §3); a bearer token that failed, why.
    static let basicChallenge = "Basic realm=\"hallpass\", charset=\"UTF-8\""

    static func defaultChallenge(status: HTTPResponse.Status, code: String) -> String? {
        guard status == .unauthorized else { return nil }
        switch code {
        case OAuthError.Code.invalidClient.description: return basicChallenge
        case OAuthError.Code.invalidToken.description: return "Bearer realm=\"hallpass\", error=\"invalid_token\""
        default: return "Bearer realm=\"hallpass-consent\""
        }
    }

    /// `no-store`, and `Retry-After` / `WWW-Authenticate` when they apply.
    var headers: HTTPFields {
        var headers = HTTPFields.noStore
        if let retryAfter = body.retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let challenge { headers[.wwwAuthenticate] = challenge }
        if let dpopNonce { headers[HTTPFields.dpopNonceName] = dpopNonce }
        return headers
    }

    /// The body's bytes. An `ErrorBody` holds only strings and integers, which always encode;
    /// were that ever to fail, the answer would still be an error, never an empty success.
    var bodyBytes: Data {
        (try? JSONResponse.encoder.encode(body)) ?? Data(#"{"error":"server_error"}"#.utf8)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(bytes: bodyBytes, status: status, headers: headers)
    }
}

extension OAuthError: HTTPResponseError {
    public var status: HTTPResponse.Status { ErrorAnswer.status(of: code) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try ErrorAnswer(self).response(from: request, context: context)
    }
}

extension ConsentAPI.Failure: HTTPResponseError {
    public var status: HTTPResponse.Status { ErrorAnswer.status(of: code) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try ErrorAnswer(self).response(from: request, context: context)
    }
}

extension HTTPFields {
    static let pragmaName = HTTPFields.Element.Name("Pragma")!
    /// RFC 9449 §4.1 and §8.1.
    static let dpopName = HTTPFields.Element.Name("DPoP")!
    static let dpopNonceName = HTTPFields.Element.Name("DPoP-Nonce")!
    /// RFC 6749 §5.1: token-bearing responses must not be cached.
    static var noStore: HTTPFields {
        [.cacheControl: "no-store", HTTPFields.pragmaName: "no-cache", .contentType: "application/json;charset=UTF-8"]
    }
}
