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
        let name = FailureKey(.loginByPair, "192.0.2.1 alice")
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
        #expect(try await ledger.retryAfter([FailureKey(.loginByPair, "192.0.2.1 bob"), FailureKey(.codeByAddress, "192.0.2.1 alice")],
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
        let name = FailureKey(.loginByPair, "10.0.0.1 alice"), address = FailureKey(.loginByAddress, "10.0.0.1")
        for i in 0..<5 { try await ledger.recordFailure([name, address], at: start.addingTimeInterval(Double(i))) }
        #expect(try await ledger.retryAfter([name], at: start.addingTimeInterval(5)) != nil)
        try await ledger.clearFailures(name)
        #expect(try await ledger.retryAfter([name], at: start.addingTimeInterval(5)) == nil)
        #expect(try await ledger.failures([address], since: start)[address]?.count == 5)
    }

    @Test(arguments: Kind.allCases) func hostileKeysAreCountedLikeAnyOther(kind: Kind) async throws {
        let ledger = try await ledger(kind)
        for value in ["ali\u{0}ce", String(repeating: "x", count: 60_000), "'; DROP TABLE failed_attempts; --"] {
            let key = FailureKey(.loginByPair, value)
            for i in 0..<5 { try await ledger.recordFailure([key], at: start.addingTimeInterval(Double(i))) }
            #expect(try await ledger.retryAfter([key], at: start.addingTimeInterval(5)) != nil, "\(value.prefix(20))")
            #expect(try await ledger.retryAfter([FailureKey(.loginByPair, "alice")], at: start.addingTimeInterval(5)) == nil)
        }
    }

    @Test func replicasOnOneDatabaseShareTheBudget() async throws {
        let url = try await TestPostgres.freshDatabaseURL()
        let a = try await TestPostgres.runningStore(url: url), b = try await TestPostgres.runningStore(url: url)
        let address = FailureKey(.codeByAddress, "198.51.100.9")
        for i in 0..<20 {
            try await (i.isMultiple(of: 2) ? a : b).recordFailure([address], at: start.addingTimeInterval(Double(i)))
        }
        #expect(try await a.retryAfter([address], at: start.addingTimeInterval(30)) != nil)
        #expect(try await b.retryAfter([address], at: start.addingTimeInterval(30)) != nil)
        // The sweep forgets failures once no window can count them.
        _ = try await a.sweep(at: start.addingTimeInterval(FailureBudget.longestWindow + 30))
        #expect(try await b.failures([address], since: .distantPast)[address]?.isEmpty == true)
    }

    @Test func theSweepKeepsEachBudgetForItsOwnWindow() async throws {
        let store = try await TestPostgres.freshStore()
        let name = FailureKey(.loginByName, "alice"), known = FailureKey(.loginKnownPair, "192.0.2.1 alice")
        try await store.recordFailure([name, known], at: start)
        _ = try await store.sweep(at: start.addingTimeInterval(3600 + 1))
        let left = try await store.failures([name, known], since: .distantPast)
        #expect(left[name]?.isEmpty == true && left[known] == [start])
        _ = try await store.sweep(at: start.addingTimeInterval(30 * 86400 + 1))
        #expect(try await store.failures([known], since: .distantPast)[known]?.isEmpty == true)
    }

    // MARK: admission (`admit`, `forgive`) and the login budgets on top of it

    /// 40 attempts at once on a name whose throttle opens for one: exactly one is admitted.
    @Test(arguments: Kind.allCases) func concurrentAttemptsCannotAllPassOneOpening(kind: Kind) async throws {
        let ledger = try await ledger(kind)
        let name = FailureKey(.loginByName, "alice")
        for i in 0..<10 { try await ledger.recordFailure([name], at: start.addingTimeInterval(Double(i) / 10)) }
        let now = start.addingTimeInterval(5)
        let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    try await ledger.admit([name], charging: [name], at: now) { FailureBudget.loginByName.retryAfter($0[name] ?? [], at: now) } == nil
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 1)
        #expect(try await ledger.failures([name], since: .distantPast)[name]?.count == 11)
    }

    @Test(arguments: Kind.allCases) func aRefusedAdmissionChargesNothingAndForgivingTakesOneBack(kind: Kind) async throws {
        let ledger = try await ledger(kind)
        let pair = FailureKey(.loginByPair, "192.0.2.1 alice"), address = FailureKey(.loginByAddress, "192.0.2.1")
        let refused = try await ledger.admit([pair], charging: [pair, address], at: start) { _ in "no" }
        #expect(refused == "no")
        #expect(try await ledger.failures([pair, address], since: .distantPast).values.allSatisfy(\.isEmpty))
        for i in 0..<2 {
            #expect(try await ledger.admit([pair], charging: [pair, address], at: start.addingTimeInterval(Double(i))) { _ in String?.none } == nil)
        }
        try await ledger.forgive([address], at: start.addingTimeInterval(1))
        #expect(try await ledger.failures([address], since: .distantPast)[address] == [start])
        #expect(try await ledger.failures([pair], since: .distantPast)[pair]?.count == 2)
    }

    @Test(arguments: Kind.allCases) func aStrangerFailingForAliceLocksOnlyTheirOwnPair(kind: Kind) async throws {
        let ledger = try await ledger(kind)
        let stranger = LoginBudgets(name: "alice", address: "203.0.113.66"), alice = LoginBudgets(name: "alice", address: "192.0.2.10")
        var tried = 0
        for i in 0..<100 {
            if try await stranger.admit(on: ledger, at: start.addingTimeInterval(Double(i))) == nil { tried += 1 }
        }
        #expect(tried == 5)
        #expect(try await stranger.admit(on: ledger, at: start.addingTimeInterval(100))?.reason == .pair)
        #expect(try await alice.admit(on: ledger, at: start.addingTimeInterval(100)) == nil)
        try await alice.succeeded(on: ledger, admittedAt: start.addingTimeInterval(100))
        // Her success forgave her provisional charge and made her pair known.
        let recorded = try await ledger.failures([alice.name, alice.address, alice.known], since: .distantPast)
        #expect(recorded[alice.name]?.count == 5 && recorded[alice.address]?.isEmpty == true && recorded[alice.known]?.count == 1)
    }

    @Test(arguments: Kind.allCases) func aKnownPairGetsInWhileTheNameIsThrottled(kind: Kind) async throws {
        let ledger = try await ledger(kind)
        let home = LoginBudgets(name: "alice", address: "192.0.2.10")
        try await home.keyLoginSucceeded(on: ledger, at: start)
        for i in 0..<30 {   // a botnet: one failure each from 30 addresses
            _ = try await LoginBudgets(name: "alice", address: "203.0.113.\(i)").admit(on: ledger, at: start.addingTimeInterval(1 + Double(i) / 100))
        }
        let now = start.addingTimeInterval(2)
        #expect(try await LoginBudgets(name: "alice", address: "198.51.100.1").admit(on: ledger, at: now)?.reason == .name)
        #expect(try await home.admit(on: ledger, at: now) == nil)
    }
}
