import Foundation
import HallpassCore
import Prometheus
import Synchronization

/// Counts an unknown `device_code` against its sender's address.
protocol UnknownDeviceCodeCounter: Sendable {
    func recordFailure(address: String)
}

/// Unknown device codes per address, at the token endpoint and on push sockets together.
/// Device codes have 256 bits (RFC 8628 §5.2 asks for enough entropy), so this guards against
/// load, not guessing; it is consulted on every poll, so it is kept per replica, in memory.
final class UnknownDeviceCodeBudget: UnknownDeviceCodeCounter {
    private let limiter = Mutex(AttemptLimiter(limit: 50, window: 15 * 60))
    private let clock: any WallClock
    private let failures: Counter

    init(clock: any WallClock, failures: Counter) {
        self.clock = clock
        self.failures = failures
    }

    func recordFailure(address: String) {
        let now = clock.now
        _ = limiter.withLock { $0.recordFailure(address, at: now) }
        failures.increment()
    }

    /// Seconds until `address` may try device codes on a push socket again, if it is blocked.
    func retryAfter(address: String) -> Int? {
        let now = clock.now
        return limiter.withLock { $0.retryAfter(address, at: now) }
    }
}
