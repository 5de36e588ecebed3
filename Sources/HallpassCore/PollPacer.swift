import Foundation

/// Enforces the polling interval of RFC 8628 §3.5: a device that polls again before its current
/// interval has passed gets `slow_down`, and that grant's interval grows by 5 seconds for good.
///
/// The bookkeeping (last poll time per grant) need not be durable: losing it on restart only
/// forgives one early poll. The interval itself is stored with the grant.
public struct PollPacer: Sendable {
    /// RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent
    /// requests".
    public static let slowDownIncrement = 5
    /// Slack for clock granularity between a device's timer and our receive timestamp.
    public let tolerance: TimeInterval

    public init(tolerance: TimeInterval = 0.05) { self.tolerance = tolerance }

    public enum Verdict: Equatable, Sendable {
        case inPace
        /// Too early: answer `slow_down` and store the new interval.
        case slowDown(newInterval: Int)
    }

    /// Judges a poll at `now`, given the previous poll (nil for the first) and the grant's
    /// current interval.
    public func judge(previousPoll: Date?, interval: Int, now: Date) -> Verdict {
        guard let previousPoll else { return .inPace }
        if now.timeIntervalSince(previousPoll) + tolerance < TimeInterval(interval) {
            return .slowDown(newInterval: interval + Self.slowDownIncrement)
        }
        return .inPace
    }
}
