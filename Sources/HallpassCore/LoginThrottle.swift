import Foundation

/// A growing, capped delay after repeated failures: the first `free` failures in `window` cost
/// nothing, then each next attempt is accepted only `firstDelay`, 2·`firstDelay`, 4·`firstDelay`…
/// (at most `maxDelay`) after the newest failure. Nothing locks: whoever waits gets their try.
/// The OWASP Authentication Cheat Sheet prefers this to a lockout, which anyone can aim at
/// someone else.
public struct LoginThrottle: Sendable, Equatable {
    public var free: Int
    public var firstDelay: TimeInterval
    public var maxDelay: TimeInterval
    public var window: TimeInterval

    public init(free: Int, firstDelay: TimeInterval, maxDelay: TimeInterval, window: TimeInterval) {
        precondition(free >= 0 && firstDelay > 0 && maxDelay >= firstDelay && window > maxDelay)
        self.free = free
        self.firstDelay = firstDelay
        self.maxDelay = maxDelay
        self.window = window
    }

    /// The wait imposed after `count` failures in the window.
    public func delay(afterFailures count: Int) -> TimeInterval {
        guard count >= free else { return 0 }
        let doublings = count - free
        return doublings >= 62 ? maxDelay : min(maxDelay, firstDelay * Double(1 << doublings))
    }

    /// The failures that matter: once this many are in the window the delay is `maxDelay`, so a
    /// store may keep only this many newest per key.
    public var saturation: Int {
        var count = free
        while delay(afterFailures: count) < maxDelay { count += 1 }
        return count + 1
    }

    /// Seconds until the next attempt is accepted given the failure times `times` (any order),
    /// or nil when one is accepted now.
    public func retryAfter(_ times: [Date], at now: Date) -> Int? {
        let recent = times.filter { now.timeIntervalSince($0) < window }
        guard let newest = recent.max() else { return nil }
        let wait = newest.addingTimeInterval(delay(afterFailures: recent.count)).timeIntervalSince(now)
        return wait > 0 ? max(1, Int(wait.rounded(.up))) : nil
    }

    /// The most failures an attacker gets in `span` seconds from a clean start, trying each time
    /// the moment the throttle allows (the numbers the README states; the tests check them).
    public func mostFailures(in span: TimeInterval) -> Int {
        var times: [Date] = []
        var total = 0
        var now = Date(timeIntervalSince1970: 0)
        let end = now.addingTimeInterval(span)
        while now < end {
            let recent = times.filter { now.timeIntervalSince($0) < window }
            if let newest = recent.max() {
                let next = newest.addingTimeInterval(delay(afterFailures: recent.count))
                if next > now { now = next; continue }
            }
            times = recent.suffix(saturation - 1) + [now]
            total += 1
        }
        return total
    }
}
