/// An OAuth error as it goes on the wire (RFC 6749 §5.2, RFC 8628 §3.5, RFC 7009 §2.2.1).
///
/// `description` is written for the client developer and never carries internals: no SQL, no
/// stack, no file names. It is kept to RFC 6749 §5.2's character set (`wireDescription`), so
/// whatever it quotes, it can go on the wire. The HTTP layer renders it as JSON with `Cache-Control: no-store`.
public struct OAuthError: Error, Equatable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String {
            case invalidRequest = "invalid_request"
            case invalidClient = "invalid_client"
            case invalidGrant = "invalid_grant"
            case unauthorizedClient = "unauthorized_client"
            case unsupportedGrantType = "unsupported_grant_type"
            case invalidScope = "invalid_scope"
            case authorizationPending = "authorization_pending"
            case slowDown = "slow_down"
            case accessDenied = "access_denied"
            case expiredToken = "expired_token"
            case unsupportedTokenType = "unsupported_token_type"
            case invalidToken = "invalid_token"
            case insufficientScope = "insufficient_scope"
            case temporarilyUnavailable = "temporarily_unavailable"
            case serverError = "server_error"
            case loginRequired = "login_required"
            case tooManyAttempts = "too_many_attempts"
            case notFound = "not_found"
            case alreadyDecided = "already_decided"
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        public static let invalidRequest = Code(.invalidRequest)
        public static let invalidClient = Code(.invalidClient)
        public static let invalidGrant = Code(.invalidGrant)
        public static let unauthorizedClient = Code(.unauthorizedClient)
        public static let unsupportedGrantType = Code(.unsupportedGrantType)
        public static let invalidScope = Code(.invalidScope)
        public static let authorizationPending = Code(.authorizationPending)
        public static let slowDown = Code(.slowDown)
        public static let accessDenied = Code(.accessDenied)
        public static let expiredToken = Code(.expiredToken)
        public static let unsupportedTokenType = Code(.unsupportedTokenType)
        public static let invalidToken = Code(.invalidToken)
        public static let insufficientScope = Code(.insufficientScope)
        public static let temporarilyUnavailable = Code(.temporarilyUnavailable)
        public static let serverError = Code(.serverError)
        /// Consent API: no or an expired session (not an RFC 6749 code).
        public static let loginRequired = Code(.loginRequired)
        /// Consent API: a guess or login budget is used up (not an RFC 6749 code).
        public static let tooManyAttempts = Code(.tooManyAttempts)
        public static let notFound = Code(.notFound)
        /// Consent API: the request was decided elsewhere or expired meanwhile (not an RFC 6749
        /// code); a front tells it apart from a wrong code by this code, not by the status.
        public static let alreadyDecided = Code(.alreadyDecided)

        public var description: String { value.rawValue }

        /// The status RFC 6749 §5.2 and RFC 8628 §3.5 give this code.
        public var defaultStatus: Int {
            switch value {
            case .invalidClient, .invalidToken, .loginRequired: 401
            case .insufficientScope: 403
            case .notFound: 404
            case .alreadyDecided: 409
            case .tooManyAttempts: 429
            case .serverError: 500
            case .temporarilyUnavailable: 503
            default: 400
            }
        }
    }

    public let code: Code
    public let errorDescription: String?
    public let httpStatus: Int
    /// Seconds after which trying again may succeed (rate limits).
    public var retryAfter: Int?
    /// Present the `WWW-Authenticate` challenge (RFC 6749 §5.2: client authenticated with the
    /// Authorization header, RFC 6750 §3 for bearer tokens).
    public var challenge: String?
    /// Consent API: wrong user codes this session may still try.
    public var guessesLeft: Int?

    public init(_ code: Code, _ description: String? = nil, status: Int? = nil) {
        self.code = code
        self.errorDescription = description.map(OAuthError.wireDescription)
        self.httpStatus = status ?? code.defaultStatus
    }

    public var description: String {
        errorDescription.map { "\(code): \($0)" } ?? code.description
    }
}
