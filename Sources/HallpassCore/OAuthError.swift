/// An OAuth error as it goes on the wire (RFC 6749 §5.2, RFC 8628 §3.5, RFC 7009 §2.2.1).
///
/// `description` is written for the client developer and never carries internals: no SQL, no
/// stack, no file names. It is kept to RFC 6749 §5.2's character set (`wireDescription`), so
/// whatever it quotes, it can go on the wire. Only the code and the description live here: the
/// server maps each code to its HTTP status and adds challenges and `Retry-After`
/// (`ErrorAnswer`); the consent API's own codes are `ConsentAPI.ErrorCode`.
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
            case unsupportedResponseType = "unsupported_response_type"
            case loginRequired = "login_required"
            case requestNotSupported = "request_not_supported"
            case requestURINotSupported = "request_uri_not_supported"
            case invalidDPoPProof = "invalid_dpop_proof"
            case useDPoPNonce = "use_dpop_nonce"
            case invalidBindingMessage = "invalid_binding_message"
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
        /// RFC 6749 §4.1.2.1: the authorization endpoint serves `response_type=code` only.
        public static let unsupportedResponseType = Code(.unsupportedResponseType)
        /// OpenID Connect Core §3.1.2.6: `prompt=none`, but every sign-in is decided by a person.
        public static let loginRequired = Code(.loginRequired)
        /// OpenID Connect Core §6.1, §6.2: request objects are not supported.
        public static let requestNotSupported = Code(.requestNotSupported)
        public static let requestURINotSupported = Code(.requestURINotSupported)
        /// RFC 9449 §5, §7.1: a DPoP proof is missing or fails a check of §4.3.
        public static let invalidDPoPProof = Code(.invalidDPoPProof)
        /// RFC 9449 §8, §9: the proof needs the server's nonce (sent in `DPoP-Nonce`).
        public static let useDPoPNonce = Code(.useDPoPNonce)
        /// CIBA Core §13: a `binding_message` that is too long or holds what a screen cannot show.
        public static let invalidBindingMessage = Code(.invalidBindingMessage)

        public var description: String { value.rawValue }
    }

    public let code: Code
    public let errorDescription: String?

    public init(_ code: Code, _ description: String? = nil) {
        self.code = code
        self.errorDescription = description.map(OAuthError.wireDescription)
    }

    public var description: String {
        errorDescription.map { "\(code): \($0)" } ?? code.description
    }
}
