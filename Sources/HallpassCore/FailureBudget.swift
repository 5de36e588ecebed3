import Foundation

/// The failure budgets of the consent API (DESIGN §5): wrong user codes count per session, per
/// user and per source address (one budget shared by lookup, approve and deny); failed logins
/// per user name and per address. Each allows `limit` failures in a sliding `window`.
public enum FailureBudget: String, Sendable, CaseIterable {
    case codeBySession = "code_session"
    case codeByUser = "code_user"
    case codeByAddress = "code_address"
    case loginByName = "login_name"
    case loginByAddress = "login_address"

    public var limit: Int {
        switch self {
        case .codeBySession: 5
        case .codeByUser: 10
        case .codeByAddress, .loginByAddress: 20
        case .loginByName: 5
        }
    }

    public var window: TimeInterval { 15 * 60 }

    /// The longest window of any budget: failures older than this count for nothing.
    public static let longestWindow: TimeInterval = allCases.map(\.window).max()!

    /// An empty in-memory counter with this budget's rule.
    public var limiter: AttemptLimiter { AttemptLimiter(limit: limit, window: window) }

    /// Failures left at `now`, given failure times from any store (0 means blocked).
    public func remaining(_ failures: [Date], at now: Date) -> Int {
        AttemptLimiter.remaining(failures, limit: limit, window: window, at: now)
    }

    /// Seconds until another try is allowed, or nil when one is allowed now.
    public func retryAfter(_ failures: [Date], at now: Date) -> Int? {
        AttemptLimiter.retryAfter(failures, limit: limit, window: window, at: now)
    }
}
