import Foundation
import HallpassCore
import Synchronization

/// One key of one failure budget: a session, a user, an address or a user name.
public struct FailureKey: Sendable, Hashable {
    public var budget: FailureBudget
    public var value: String
    public init(_ budget: FailureBudget, _ value: String) {
        self.budget = budget
        self.value = value
    }

    /// The oldest moment any of `keys`' budgets still counts at `now`.
    public static func horizon(of keys: [FailureKey], at now: Date) -> Date {
        now.addingTimeInterval(-(keys.map(\.budget.window).max() ?? 0))
    }
}

/// Where the consent API's failure budgets are counted. One replica keeps them in memory;
/// several replicas on PostgreSQL count them in the database, so N replicas do not hand an
/// attacker N budgets. Losing them on restart forgives at most one window of failures.
public protocol FailureLedger: Sendable {
    /// The failures recorded for each of `keys` since `since` (keys without any may be absent).
    func failures(_ keys: [FailureKey], since: Date) async throws -> [FailureKey: [Date]]
    /// One failure at `at` for each of `keys`.
    func recordFailure(_ keys: [FailureKey], at: Date) async throws
    /// Forgets `key`'s failures (a successful login clears its pair's budget).
    func clearFailures(_ key: FailureKey) async throws
    /// Reads the events of `keys` (each within its budget's window) and asks `refusal`; when it
    /// answers nil, records one failure at `now` against each of `charging` before returning.
    /// Atomic with every other `admit` that charges one of the same keys, on this replica and
    /// across replicas, so concurrent attempts cannot all slip through one opening.
    func admit<Refusal: Sendable>(_ keys: [FailureKey], charging: [FailureKey], at now: Date,
                                  _ refusal: ([FailureKey: [Date]]) -> Refusal?) async throws -> Refusal?
    /// Takes back one failure recorded at exactly `at` for each of `keys`.
    func forgive(_ keys: [FailureKey], at: Date) async throws
}

extension FailureLedger {
    /// Seconds until the most blocked of `keys` may try again; nil when none is blocked.
    public func retryAfter(_ keys: [FailureKey], at now: Date) async throws -> Int? {
        let recorded = try await failures(keys, since: FailureKey.horizon(of: keys, at: now))
        return keys.compactMap { $0.budget.retryAfter(recorded[$0] ?? [], at: now) }.max()
    }

    /// Records one failure against every key; the fewest failures any of them has left.
    public func charge(_ keys: [FailureKey], at now: Date) async throws -> Int {
        try await recordFailure(keys, at: now)
        let recorded = try await failures(keys, since: FailureKey.horizon(of: keys, at: now))
        return keys.map { $0.budget.remaining(recorded[$0] ?? [], at: now) }.min() ?? 0
    }
}

/// The single-replica ledger: one `AttemptLimiter` per budget behind one lock (each keeps at
/// most its limit of newest failures per key and prunes idle keys once a window).
public final class InMemoryFailureLedger: FailureLedger {
    private let limiters = Mutex(Dictionary(uniqueKeysWithValues: FailureBudget.allCases.map { ($0, $0.limiter) }))

    public init() {}

    public func failures(_ keys: [FailureKey], since: Date) async throws -> [FailureKey: [Date]] {
        limiters.withLock { table in
            Dictionary(keys.map { ($0, table[$0.budget]!.failures($0.value, since: since)) }, uniquingKeysWith: { first, _ in first })
        }
    }

    public func recordFailure(_ keys: [FailureKey], at: Date) async throws {
        limiters.withLock { table in
            for key in keys { table[key.budget]!.recordFailure(key.value, at: at) }
        }
    }

    public func clearFailures(_ key: FailureKey) async throws {
        limiters.withLock { $0[key.budget]!.reset(key.value) }
    }

    public func admit<Refusal: Sendable>(_ keys: [FailureKey], charging: [FailureKey], at now: Date,
                                         _ refusal: ([FailureKey: [Date]]) -> Refusal?) async throws -> Refusal? {
        let since = FailureKey.horizon(of: keys, at: now)
        return limiters.withLock { table in
            let recorded = Dictionary(keys.map { ($0, table[$0.budget]!.failures($0.value, since: since)) }, uniquingKeysWith: { first, _ in first })
            if let refused = refusal(recorded) { return refused }
            for key in charging { table[key.budget]!.recordFailure(key.value, at: now) }
            return nil
        }
    }

    public func forgive(_ keys: [FailureKey], at: Date) async throws {
        limiters.withLock { table in
            for key in keys { table[key.budget]!.forgive(key.value, at: at) }
        }
    }
}
