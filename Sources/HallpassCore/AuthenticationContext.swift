import Foundation

/// How the person who decided a request proved who they were, as tokens and introspection say
/// it (ARCHITECTURE.md §4.8): RFC 8176 `amr` values, OpenID Connect's `auth_time`, and an `acr`
/// when a second factor no older than `SecondFactorDemand.freshness` vouched for the decision.
public struct AuthenticationContext: Equatable, Sendable {
    /// RFC 8176 §2 values, in the order the factors were given.
    public var methods: [String]
    /// The last authentication the decision rests on (the login, or a later code).
    public var time: Date
    public var acr: String?

    public init(methods: [String], time: Date, acr: String? = nil) {
        self.methods = methods
        self.time = time
        self.acr = acr
    }

    /// RFC 8176 §2: password, one-time password, a software-secured key (an SSH key), and
    /// multiple factors (given with two or more of the others).
    public static let password = "pwd", otp = "otp", sshKey = "swk", multiFactor = "mfa"
    /// The `acr` of a decision made with a fresh second factor (the step-up of RFC 9470).
    public static let stepUpACR = "urn:hallpass:acr:otp-fresh"

    /// `methods` with `method` added, and `mfa` once there are two factors.
    public static func adding(_ method: String, to methods: [String]) -> [String] {
        var result = methods.filter { $0 != multiFactor }
        if !result.contains(method) { result.append(method) }
        if result.count >= 2 { result.append(multiFactor) }
        return result
    }

    /// The stored form of `methods`: space-separated.
    public var storedMethods: String { methods.joined(separator: " ") }

    public static func methods(stored: String?) -> [String] {
        (stored ?? "").split(separator: " ").map(String.init)
    }
}

/// When approving needs a second factor now (issue 18; RFC 9470's step-up idea): a scope the
/// operator marked `--step-up` needs a code no older than five minutes; a client registered
/// with `--require-totp` needs the session to have been opened with one. Nil: nothing to ask.
public enum SecondFactorDemand: Equatable, Sendable {
    case stepUp(scopes: [String])
    case client

    public static let freshness: TimeInterval = 300

    public static func demand(approving scopes: ScopeSet, stepUpScopes: Set<String>, clientRequiresTOTP: Bool,
                              sessionOTPAt: Date?, now: Date) -> SecondFactorDemand? {
        let risky = scopes.filter { stepUpScopes.contains($0) }.sorted()
        if !risky.isEmpty, !isFresh(sessionOTPAt, at: now) { return .stepUp(scopes: risky) }
        if clientRequiresTOTP, sessionOTPAt == nil { return .client }
        return nil
    }

    /// A code given within `freshness` of `now`.
    public static func isFresh(_ otpAt: Date?, at now: Date) -> Bool {
        guard let otpAt else { return false }
        return now.timeIntervalSince(otpAt) <= freshness && otpAt <= now.addingTimeInterval(1)
    }

    /// Words for the screens and the API's message.
    public var description: String {
        switch self {
        case .stepUp(let scopes): "\(scopes.joined(separator: ", ")) needs a fresh code from your authenticator"
        case .client: "this client needs a code from your authenticator"
        }
    }
}
