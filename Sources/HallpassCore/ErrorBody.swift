/// The JSON body of every error the server answers: RFC 6749 §5.2's `error` and
/// `error_description`, and two fields the consent API adds. The server renders it; clients
/// decode it.
public struct ErrorBody: Codable, Equatable, Sendable {
    public var error: String
    public var errorDescription: String?
    /// Consent API: wrong user codes this session may still try.
    public var guessesLeft: Int?
    /// Seconds after which trying again may succeed (also sent as `Retry-After`).
    public var retryAfter: Int?

    public init(error: String, errorDescription: String? = nil, guessesLeft: Int? = nil, retryAfter: Int? = nil) {
        self.error = error
        self.errorDescription = errorDescription
        self.guessesLeft = guessesLeft
        self.retryAfter = retryAfter
    }

    enum CodingKeys: String, CodingKey {
        case error, errorDescription = "error_description", guessesLeft = "guesses_left", retryAfter = "retry_after"
    }
}

extension OAuthError {
    /// The body this error goes on the wire as.
    public var body: ErrorBody { ErrorBody(error: code.description, errorDescription: errorDescription) }
}
