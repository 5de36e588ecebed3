import Foundation

/// Counts failures per key in a sliding window (DESIGN §5: user-code lookups and logins are
/// limited per session, per user and per source address).
///
/// Pure bookkeeping with the time passed in; the server keeps one per kind of key.
public struct AttemptLimiter: Sendable {
    public let limit: Int
    public let window: TimeInterval
    private var failures: [String: [Date]] = [:]
    private var lastPrune = Date.distantPast

    public init(limit: Int, window: TimeInterval) {
        self.limit = limit
        self.window = window
    }

    /// Failures left for `key` at `now` (0 means blocked).
    public func remaining(_ key: String, at now: Date) -> Int {
        max(0, limit - recent(key, at: now).count)
    }

    /// Seconds until `key` may try again, or nil when it may try now.
    public func retryAfter(_ key: String, at now: Date) -> Int? {
        let times = recent(key, at: now)
        guard times.count >= limit, let oldest = times.first else { return nil }
        return max(1, Int((oldest.addingTimeInterval(window).timeIntervalSince(now)).rounded(.up)))
    }

    /// Records one failure; returns what is left after it.
    @discardableResult
    public mutating func recordFailure(_ key: String, at now: Date) -> Int {
        var times = recent(key, at: now)
        times.append(now)
        if times.count > limit { times.removeFirst(times.count - limit) }
        failures[key] = times
        pruneIfDue(at: now)
        return max(0, limit - times.count)
    }

    public mutating func reset(_ key: String) { failures[key] = nil }

    private func recent(_ key: String, at now: Date) -> [Date] {
        (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
    }

    /// Drops keys with no recent failure, so memory stays bounded by recent activity.
    private mutating func pruneIfDue(at now: Date) {
        guard now.timeIntervalSince(lastPrune) > window else { return }
        lastPrune = now
        failures = failures.filter { _, times in times.contains { now.timeIntervalSince($0) < window } }
    }
}
