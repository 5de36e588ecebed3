import Foundation

/// Lifetimes and limits, with the defaults Hallpass ships.
public struct GrantPolicy: Sendable {
    /// Wrong guesses within one character of a live code that withdraw it (ARCHITECTURE.md §6).
    public static let guessesPerCode = 5
    /// How long an authorization code lives once the person approved (RFC 6749 §4.1.2: "a
    /// maximum authorization code lifetime of 10 minutes is RECOMMENDED"; Hallpass keeps 60 s).
    public static let authorizationCodeLifetime: TimeInterval = 60

    public var defaultCodeLifetime: TimeInterval = 600
    public var defaultInterval: Int = 5
    public var accessTokenLifetime: TimeInterval = 3600
    public var refreshTokenLifetime: TimeInterval = 30 * 24 * 3600
    public var idTokenLifetime: TimeInterval = 3600
    public var consentSessionLifetime: TimeInterval = 15 * 60
    /// How long a retired signing key stays in the JWKS: the longest access or id token
    /// lifetime, plus slack.
    public var retiredKeyGrace: TimeInterval { max(accessTokenLifetime, idTokenLifetime) + 300 }

    public init() {}
}
