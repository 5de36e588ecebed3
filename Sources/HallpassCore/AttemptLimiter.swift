import Foundation

/// Counts failures per key in a sliding window (ARCHITECTURE.md §6: user-code lookups and logins are
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
        Self.remaining(failures[key] ?? [], limit: limit, window: window, at: now)
    }

    /// Seconds until `key` may try again, or nil when it may try now.
    public func retryAfter(_ key: String, at now: Date) -> Int? {
        Self.retryAfter(failures[key] ?? [], limit: limit, window: window, at: now)
    }

    /// The failures kept for `key` at or after `since` (at most `limit`, oldest first).
    public func failures(_ key: String, since: Date) -> [Date] {
        (failures[key] ?? []).filter { $0 >= since }
    }

    /// Failures left at `now` given the failure times `times` (any order; 0 means blocked).
    public static func remaining(_ times: [Date], limit: Int, window: TimeInterval, at now: Date) -> Int {
        max(0, limit - times.filter { now.timeIntervalSince($0) < window }.count)
    }

    /// Seconds until another try is allowed given the failure times `times` (any order), or nil
    /// when one is allowed now: a failure is freed when the `limit`-th newest leaves the window.
    public static func retryAfter(_ times: [Date], limit: Int, window: TimeInterval, at now: Date) -> Int? {
        let recent = times.filter { now.timeIntervalSince($0) < window }.sorted()
        guard recent.count >= limit else { return nil }
        let freeing = recent[recent.count - limit]
        return max(1, Int(freeing.addingTimeInterval(window).timeIntervalSince(now).rounded(.up)))
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

    /// Takes back one failure recorded at exactly `at` (a provisional charge that was a success).
    public mutating func forgive(_ key: String, at: Date) {
        guard var times = failures[key], let index = times.lastIndex(of: at) else { return }
        times.remove(at: index)
        failures[key] = times.isEmpty ? nil : times
    }

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
