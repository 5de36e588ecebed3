import Foundation
import HallpassCore
import HallpassStore
import Logging
import PostgresNIO

/// The consent API's failure budgets in the database, so every replica counts the same
/// failures: with N replicas behind a load balancer an attacker still gets one budget, not N.
/// Only consent logins and code lookups touch it (token polls never do). Old rows go with the
/// expiry sweep.
extension PostgresStore: FailureLedger {
    public func failures(_ keys: [FailureKey], since: Date) async throws -> [FailureKey: [Date]] {
        guard !keys.isEmpty else { return [:] }
        return try await client.withConnection { connection in
            try await Self.failures(keys, since: since, on: connection, logger: logger)
        }
    }

    static func failures(_ keys: [FailureKey], since: Date, on connection: PostgresConnection,
                         logger: Logger) async throws -> [FailureKey: [Date]] {
        let budgets = Array(Set(keys.map(\.budget.rawValue)))
        let values = Array(Set(keys.map { ledgerKey($0.value) }))
        var rows: [(String, String, Double)] = []
        for try await row in try await connection.query("""
            SELECT budget, key, at FROM failed_attempts
            WHERE budget = ANY(\(budgets)) AND key = ANY(\(values)) AND at >= \(since.unix)
            """, logger: logger) {
            rows.append(try row.decode((String, String, Double).self))
        }
        var result: [FailureKey: [Date]] = [:]
        for key in keys {
            let stored = (key.budget.rawValue, ledgerKey(key.value))
            result[key] = rows.filter { $0.0 == stored.0 && $0.1 == stored.1 }.map { Date(timeIntervalSince1970: $0.2) }
        }
        return result
    }

    public func recordFailure(_ keys: [FailureKey], at: Date) async throws {
        guard !keys.isEmpty else { return }
        try await client.withConnection { connection in try await Self.record(keys, at: at, on: connection, logger: logger) }
    }

    static func record(_ keys: [FailureKey], at: Date, on connection: PostgresConnection, logger: Logger) async throws {
        let budgets = keys.map(\.budget.rawValue)
        let values = keys.map { ledgerKey($0.value) }
        let times = Array(repeating: at.unix, count: keys.count)
        try await count("""
            INSERT INTO failed_attempts (budget, key, at)
            SELECT * FROM unnest(\(budgets)::text[], \(values)::text[], \(times)::float8[]) RETURNING 1
            """, on: connection, logger: logger)
    }

    /// One transaction that first takes a transaction-scoped advisory lock per charged key (in
    /// one order, so two admissions cannot deadlock): every replica's admissions on a key queue.
    /// An attempt the budgets already refuse is refused from a read without locks, so a flood
    /// of refused attempts never queues on the locks in front of one that would be let in.
    public func admit<Refusal: Sendable>(_ keys: [FailureKey], charging: [FailureKey], at now: Date,
                                         _ refusal: ([FailureKey: [Date]]) -> Refusal?) async throws -> Refusal? {
        let since = FailureKey.horizon(of: keys, at: now)
        if let refused = refusal(try await failures(keys, since: since)) { return refused }
        return try await transaction { connection in
            let locks = Set(charging.map { $0.budget.rawValue + ":" + Self.ledgerKey($0.value) }).sorted()
            for lock in locks {
                try await Self.count("SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtextextended(\(lock), 0))) AS taken",
                                     on: connection, logger: logger)
            }
            let recorded = try await Self.failures(keys, since: since, on: connection, logger: logger)
            if let refused = refusal(recorded) { return refused }
            if !charging.isEmpty { try await Self.record(charging, at: now, on: connection, logger: logger) }
            return nil
        }
    }

    public func forgive(_ keys: [FailureKey], at: Date) async throws {
        for key in keys {
            try await count("""
                DELETE FROM failed_attempts WHERE ctid IN (
                    SELECT ctid FROM failed_attempts
                    WHERE budget = \(key.budget.rawValue) AND key = \(Self.ledgerKey(key.value)) AND at = \(at.unix) LIMIT 1)
                RETURNING 1
                """)
        }
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
