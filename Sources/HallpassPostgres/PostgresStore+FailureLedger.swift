import Foundation
import HallpassCore
import HallpassStore
import PostgresNIO

/// The consent API's failure budgets in the database, so every replica counts the same
/// failures: with N replicas behind a load balancer an attacker still gets one budget, not N.
/// Only consent logins and code lookups touch it (token polls never do). Old rows go with the
/// expiry sweep.
extension PostgresStore: FailureLedger {
    public func failures(_ keys: [FailureKey], since: Date) async throws -> [FailureKey: [Date]] {
        guard !keys.isEmpty else { return [:] }
        let budgets = Array(Set(keys.map(\.budget.rawValue)))
        let values = Array(Set(keys.map { Self.ledgerKey($0.value) }))
        let rows = try await all("""
            SELECT budget, key, at FROM failed_attempts
            WHERE budget = ANY(\(budgets)) AND key = ANY(\(values)) AND at >= \(since.unix)
            """) { row in try row.decode((String, String, Double).self) }
        var result: [FailureKey: [Date]] = [:]
        for key in keys {
            let stored = (key.budget.rawValue, Self.ledgerKey(key.value))
            result[key] = rows.filter { $0.0 == stored.0 && $0.1 == stored.1 }.map { Date(timeIntervalSince1970: $0.2) }
        }
        return result
    }

    public func recordFailure(_ keys: [FailureKey], at: Date) async throws {
        guard !keys.isEmpty else { return }
        let budgets = keys.map(\.budget.rawValue)
        let values = keys.map { Self.ledgerKey($0.value) }
        let times = Array(repeating: at.unix, count: keys.count)
        _ = try await count("""
            INSERT INTO failed_attempts (budget, key, at)
            SELECT * FROM unnest(\(budgets)::text[], \(values)::text[], \(times)::float8[]) RETURNING 1
            """)
    }

    public func clearFailures(_ key: FailureKey) async throws {
        _ = try await count("""
            DELETE FROM failed_attempts WHERE budget = \(key.budget.rawValue) AND key = \(Self.ledgerKey(key.value)) RETURNING 1
            """)
    }

    /// Keys come from clients (a user name may be 60 KiB or hold a NUL, which PostgreSQL text
    /// refuses): anything long or unstorable is counted under its SHA-256 instead.
    static func ledgerKey(_ value: String) -> String {
        isStorable(value) && value.utf8.count <= 200 ? value : "sha256:" + SecretToken.hash(value)
    }
}
