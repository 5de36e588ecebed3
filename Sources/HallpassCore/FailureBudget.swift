import Foundation

/// The failure budgets of the consent API and the SSH front (ARCHITECTURE.md §6). Wrong user codes count
/// per session, per user and per source address (one budget shared by lookup, approve and deny)
/// and lock each for a sliding window. Failed logins lock only the (name, address) pair that
/// failed; per name and per address they throttle (`LoginThrottle`), so a stranger cannot lock a
/// colleague out by failing for their name, nor an office by failing behind its NAT.
public enum FailureBudget: String, Sendable, CaseIterable {
    case codeBySession = "code_session"
    case codeByUser = "code_user"
    case codeByAddress = "code_address"
    /// Failed logins for one name from one address: this is what locks.
    case loginByPair = "login_pair"
    /// Failed logins for one name from any address: a throttle, so a distributed guesser gets a
    /// bounded number of tries per hour.
    case loginByName = "login_name"
    /// Failed logins from one address for any name: a throttle sized for a NAT of honest users.
    case loginByAddress = "login_address"
    /// Not failures: when a name last logged in from an address. A name is not throttled at an
    /// address it logged in from in the last 30 days (the pair lock still holds there).
    case loginKnownPair = "login_known"

    public enum Rule: Sendable, Equatable {
        /// `limit` failures in a sliding `window` block until the oldest counting one leaves it.
        case lock(limit: Int, window: TimeInterval)
        case throttle(LoginThrottle)
        /// Remembers the newest event for `window`; never blocks.
        case remember(window: TimeInterval)
    }

    public var rule: Rule {
        switch self {
        case .codeBySession, .loginByPair: .lock(limit: 5, window: 15 * 60)
        case .codeByUser: .lock(limit: 10, window: 15 * 60)
        case .codeByAddress: .lock(limit: 20, window: 15 * 60)
        case .loginByName: .throttle(LoginThrottle(free: 10, firstDelay: 1, maxDelay: 60, window: 3600))
        case .loginByAddress: .throttle(LoginThrottle(free: 50, firstDelay: 1, maxDelay: 30, window: 3600))
        case .loginKnownPair: .remember(window: 30 * 24 * 3600)
        }
    }

    /// How many newest events per key a store must keep: more change nothing.
    public var limit: Int {
        switch rule {
        case .lock(let limit, _): limit
        case .throttle(let throttle): throttle.saturation
        case .remember: 1
        }
    }

    /// How long an event counts.
    public var window: TimeInterval {
        switch rule {
        case .lock(_, let window), .remember(let window): window
        case .throttle(let throttle): throttle.window
        }
    }

    /// The longest window of any budget: events older than this count for nothing.
    public static let longestWindow: TimeInterval = allCases.map(\.window).max()!

    /// An empty in-memory counter with this budget's rule.
    public var limiter: AttemptLimiter { AttemptLimiter(limit: limit, window: window) }

    /// Failures left before this budget blocks at `now` (a throttle: before it starts to delay).
    public func remaining(_ failures: [Date], at now: Date) -> Int {
        switch rule {
        case .lock(let limit, let window): AttemptLimiter.remaining(failures, limit: limit, window: window, at: now)
        case .throttle(let throttle): AttemptLimiter.remaining(failures, limit: throttle.free, window: throttle.window, at: now)
        case .remember: Int.max
        }
    }

    /// Seconds until another try is allowed, or nil when one is allowed now.
    public func retryAfter(_ failures: [Date], at now: Date) -> Int? {
        switch rule {
        case .lock(let limit, let window): AttemptLimiter.retryAfter(failures, limit: limit, window: window, at: now)
        case .throttle(let throttle): throttle.retryAfter(failures, at: now)
        case .remember: nil
        }
    }

    /// Whether an event in `events` is still inside the window at `now` (for `.remember`).
    public func remembers(_ events: [Date], at now: Date) -> Bool {
        events.contains { now.timeIntervalSince($0) < window }
    }
}
