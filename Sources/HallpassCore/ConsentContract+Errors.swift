extension ConsentAPI {
    /// The codes the consent API answers with: its own (not RFC 6749 codes), and the RFC
    /// 6749 codes it shares with the token endpoint. A front tells failures apart by these,
    /// never by the HTTP status. Open: a code this build does not know still decodes.
    public struct ErrorCode: RawRepresentable, Hashable, Codable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(_ code: OAuthError.Code) { rawValue = code.description }
        public var description: String { rawValue }

        /// No session, or an expired one: log in again.
        public static let loginRequired = ErrorCode(rawValue: "login_required")
        /// A login or code-guess budget is used up; `retryAfter` says for how long.
        public static let tooManyAttempts = ErrorCode(rawValue: "too_many_attempts")
        /// The request was decided elsewhere or expired meanwhile (not a wrong code).
        public static let alreadyDecided = ErrorCode(rawValue: "already_decided")
        /// No such endpoint.
        public static let notFound = ErrorCode(rawValue: "not_found")
        /// The client requires approval from the device's network (BCP 247 proximity), and the
        /// approver is on another: the request is denied.
        public static let proximityRequired = ErrorCode(rawValue: "proximity_required")
        /// A code from the user's authenticator is needed first: the login's second factor, or a
        /// step-up for what is being approved. The message says which.
        public static let otpRequired = ErrorCode(rawValue: "otp_required")
        /// A wrong, reused or malformed authenticator or recovery code.
        public static let invalidOTP = ErrorCode(rawValue: "invalid_otp")
        /// A wrong user name or password (at login).
        public static let accessDenied = ErrorCode(.accessDenied)
        /// A wrong or dead user code; `guessesLeft` says how many more may be tried.
        public static let invalidGrant = ErrorCode(.invalidGrant)
        public static let invalidRequest = ErrorCode(.invalidRequest)
        public static let invalidScope = ErrorCode(.invalidScope)
    }

    /// A consent API failure: its code, a message fit to show (after sanitizing), and what is left.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var code: ErrorCode
        public var message: String
        public var guessesLeft: Int?
        public var retryAfter: Int?

        public init(_ code: ErrorCode, _ message: String, guessesLeft: Int? = nil, retryAfter: Int? = nil) {
            self.code = code
            self.message = OAuthError.wireDescription(message)
            self.guessesLeft = guessesLeft
            self.retryAfter = retryAfter
        }

        /// As read off the wire.
        public init(_ body: ErrorBody) {
            self.init(ErrorCode(rawValue: body.error), body.errorDescription ?? body.error,
                      guessesLeft: body.guessesLeft, retryAfter: body.retryAfter)
        }

        public var body: ErrorBody {
            ErrorBody(error: code.rawValue, errorDescription: message, guessesLeft: guessesLeft, retryAfter: retryAfter)
        }

        public var description: String { message }
    }
}
