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

    /// Failures that still count at `now`, of `failures` (any order).
    public func recent(_ failures: [Date], at now: Date) -> [Date] {
        failures.filter { now.timeIntervalSince($0) < window }.sorted()
    }

    /// Failures left at `now` (0 means blocked).
    public func remaining(_ failures: [Date], at now: Date) -> Int {
        max(0, limit - recent(failures, at: now).count)
    }

    /// Seconds until another try is allowed, or nil when one is allowed now: the budget frees a
    /// failure when the `limit`-th newest one leaves the window.
    public func retryAfter(_ failures: [Date], at now: Date) -> Int? {
        let times = recent(failures, at: now)
        guard times.count >= limit else { return nil }
        let freeing = times[times.count - limit]
        return max(1, Int(freeing.addingTimeInterval(window).timeIntervalSince(now).rounded(.up)))
    }
}
