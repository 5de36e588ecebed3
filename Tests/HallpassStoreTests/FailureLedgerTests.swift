import Foundation
import HallpassCore
import HallpassPostgres
import HallpassStore
import Testing

/// The failure budgets' ledger: in memory (one replica) and in PostgreSQL (shared by replicas)
/// keep the same rules.
@Suite struct FailureLedgerTests {
    enum Kind: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case memory, postgres
        var testDescription: String { rawValue }
    }

    func ledger(_ kind: Kind) async throws -> any FailureLedger {
        switch kind {
        case .memory: InMemoryFailureLedger()
        case .postgres: try await TestPostgres.freshStore()
        }
    }

    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: Kind.allCases) func aBudgetBlocksAtItsLimitUntilTheOldestCountingFailureLeaves(kind: Kind) async throws {
        let ledger = try await ledger(kind)
        let name = FailureKey(.loginByName, "alice")
        for i in 0..<4 {
            #expect(try await ledger.charge([name], at: start.addingTimeInterval(Double(i) * 60)) == 4 - i)
        }
        #expect(try await ledger.retryAfter([name], at: start.addingTimeInterval(240)) == nil)
        #expect(try await ledger.charge([name], at: start.addingTimeInterval(240)) == 0)
        // The 5th failure blocks; the first leaves the 15-minute window at start + 900.
        #expect(try await ledger.retryAfter([name], at: start.addingTimeInterval(300)) == 600)
        #expect(try await ledger.retryAfter([name], at: start.addingTimeInterval(899.5)) == 1)
        #expect(try await ledger.retryAfter([name], at: start.addingTimeInterval(900)) == nil)
        // Another key of the same budget, and the same value in another budget, are untouched.
        #expect(try await ledger.retryAfter([FailureKey(.loginByName, "bob"), FailureKey(.loginByAddress, "alice")],
                                            at: start.addingTimeInterval(300)) == nil)
    }

    @Test(arguments: Kind.allCases) func theMostBlockedKeyDecides(kind: Kind) async throws {
        let ledger = try await ledger(kind)
        let session = FailureKey(.codeBySession, "s1"), user = FailureKey(.codeByUser, "7"), address = FailureKey(.codeByAddress, "10.0.0.1")
        for i in 0..<5 {
            _ = try await ledger.charge([session, user, address], at: start.addingTimeInterval(Double(i)))
        }
        // The session (5) is spent; the user has 5 of 10 left, the address 15 of 20.
        #expect(try await ledger.retryAfter([user, address], at: start.addingTimeInterval(10)) == nil)
        #expect(try await ledger.retryAfter([session, user, address], at: start.addingTimeInterval(10)) == 890)
        let fresh = FailureKey(.codeBySession, "s2")
        #expect(try await ledger.charge([fresh, user, address], at: start.addingTimeInterval(10)) == 4)
    }

    @Test(arguments: Kind.allCases) func clearingForgetsOneKeyOnly(kind: Kind) async throws {
        let ledger = try await ledger(kind)
        let name = FailureKey(.loginByName, "alice"), address = FailureKey(.loginByAddress, "10.0.0.1")
        for i in 0..<5 { try await ledger.recordFailure([name, address], at: start.addingTimeInterval(Double(i))) }
        #expect(try await ledger.retryAfter([name], at: start.addingTimeInterval(5)) != nil)
        try await ledger.clearFailures(name)
        #expect(try await ledger.retryAfter([name], at: start.addingTimeInterval(5)) == nil)
        #expect(try await ledger.failures([address], since: start)[address]?.count == 5)
    }

    @Test(arguments: Kind.allCases) func hostileKeysAreCountedLikeAnyOther(kind: Kind) async throws {
        let ledger = try await ledger(kind)
        for value in ["ali\u{0}ce", String(repeating: "x", count: 60_000), "'; DROP TABLE failed_attempts; --"] {
            let key = FailureKey(.loginByName, value)
            for i in 0..<5 { try await ledger.recordFailure([key], at: start.addingTimeInterval(Double(i))) }
            #expect(try await ledger.retryAfter([key], at: start.addingTimeInterval(5)) != nil, "\(value.prefix(20))")
            #expect(try await ledger.retryAfter([FailureKey(.loginByName, "alice")], at: start.addingTimeInterval(5)) == nil)
        }
    }

    @Test func replicasOnOneDatabaseShareTheBudget() async throws {
        let url = try await TestPostgres.freshDatabaseURL()
        let a = try await PostgresStore(url: url), b = try await PostgresStore(url: url)
        let address = FailureKey(.loginByAddress, "198.51.100.9")
        for i in 0..<20 {
            try await (i.isMultiple(of: 2) ? a : b).recordFailure([address], at: start.addingTimeInterval(Double(i)))
        }
        #expect(try await a.retryAfter([address], at: start.addingTimeInterval(30)) != nil)
        #expect(try await b.retryAfter([address], at: start.addingTimeInterval(30)) != nil)
        // The sweep forgets failures once no window can count them.
        _ = try await a.sweep(at: start.addingTimeInterval(FailureBudget.longestWindow + 30))
        #expect(try await b.failures([address], since: .distantPast)[address]?.isEmpty == true)
    }
}
