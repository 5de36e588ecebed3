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
}

/// Where the consent API's failure budgets are counted. One replica keeps them in memory;
/// several replicas on PostgreSQL count them in the database, so N replicas do not hand an
/// attacker N budgets. Losing them on restart forgives at most one window of failures.
public protocol FailureLedger: Sendable {
    /// The failures recorded for each of `keys` since `since` (keys without any may be absent).
    func failures(_ keys: [FailureKey], since: Date) async throws -> [FailureKey: [Date]]
    /// One failure at `at` for each of `keys`.
    func recordFailure(_ keys: [FailureKey], at: Date) async throws
    /// Forgets `key`'s failures (a successful login clears its name's budget).
    func clearFailures(_ key: FailureKey) async throws
}

extension FailureLedger {
    /// Seconds until the most blocked of `keys` may try again; nil when none is blocked.
    public func retryAfter(_ keys: [FailureKey], at now: Date) async throws -> Int? {
        let recorded = try await failures(keys, since: now.addingTimeInterval(-FailureBudget.longestWindow))
        return keys.compactMap { $0.budget.retryAfter(recorded[$0] ?? [], at: now) }.max()
    }

    /// Records one failure against every key; the fewest failures any of them has left.
    public func charge(_ keys: [FailureKey], at now: Date) async throws -> Int {
        try await recordFailure(keys, at: now)
        let recorded = try await failures(keys, since: now.addingTimeInterval(-FailureBudget.longestWindow))
        return keys.map { $0.budget.remaining(recorded[$0] ?? [], at: now) }.min() ?? 0
    }
}

/// The single-replica ledger: failures in memory behind one lock, each key keeping at most its
/// budget's limit of newest failures, keys without a recent failure pruned once a window.
public final class InMemoryFailureLedger: FailureLedger {
    private struct Table {
        var byKey: [FailureKey: [Date]] = [:]
        var lastPrune = Date.distantPast
    }
    private let table = Mutex(Table())

    public init() {}

    public func failures(_ keys: [FailureKey], since: Date) async throws -> [FailureKey: [Date]] {
        table.withLock { t in
            var result: [FailureKey: [Date]] = [:]
            for key in keys { result[key] = (t.byKey[key] ?? []).filter { $0 >= since } }
            return result
        }
    }

    public func recordFailure(_ keys: [FailureKey], at: Date) async throws {
        table.withLock { t in
            for key in keys {
                var times = t.byKey[key] ?? []
                times.append(at)
                if times.count > key.budget.limit { times.removeFirst(times.count - key.budget.limit) }
                t.byKey[key] = times
            }
            if at.timeIntervalSince(t.lastPrune) > FailureBudget.longestWindow {
                t.lastPrune = at
                t.byKey = t.byKey.filter { key, times in times.contains { at.timeIntervalSince($0) < key.budget.window } }
            }
        }
    }

    public func clearFailures(_ key: FailureKey) async throws {
        _ = table.withLock { $0.byKey.removeValue(forKey: key) }
    }
}
