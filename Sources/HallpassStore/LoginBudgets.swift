import Foundation
import HallpassCore

/// One login attempt's keys in the failure ledger: the (name, address) pair, the name, the
/// address, and the pair's "logged in from here before" mark. The consent API's password login
/// and the SSH front's use the same rules (`LoginRefusal.decide`).
///
/// The attempt is charged before the password is checked and forgiven if it was right, so a
/// burst of concurrent attempts (or attempts through several replicas) cannot all pass through
/// one opening of a throttle while a slow password hash runs.
public struct LoginBudgets: Sendable {
    public let pair: FailureKey
    public let name: FailureKey
    public let address: FailureKey
    public let known: FailureKey

    /// `address` is the canonical client address (`IPAddress`), which never holds a space, so
    /// the pair key cannot be forged by a name.
    public init(name: String, address: String) {
        pair = FailureKey(.loginByPair, address + " " + name)
        self.name = FailureKey(.loginByName, name)
        self.address = FailureKey(.loginByAddress, address)
        known = FailureKey(.loginKnownPair, address + " " + name)
    }

    /// Nil when the password may be tried, which charges one failure to the pair, the name and
    /// the address (forgiven by `succeeded`); otherwise what refused it (nothing is charged).
    public func admit(on ledger: any FailureLedger, at now: Date) async throws -> LoginRefusal? {
        try await ledger.admit([pair, name, address, known], charging: [pair, name, address], at: now) { recorded in
            LoginRefusal.decide(pair: recorded[pair] ?? [], name: recorded[name] ?? [], address: recorded[address] ?? [],
                                known: FailureBudget.loginKnownPair.remembers(recorded[known] ?? [], at: now), at: now)
        }
    }

    /// The password admitted at `admittedAt` was right: the pair's failures are forgotten, the
    /// provisional charge to the name and the address is taken back, and the pair is known.
    public func succeeded(on ledger: any FailureLedger, admittedAt: Date) async throws {
        try await ledger.clearFailures(pair)
        try await ledger.forgive([name, address], at: admittedAt)
        try await Self.remember(known, on: ledger, at: admittedAt)
    }

    /// The password admitted at `admittedAt` was right, but a second factor is still to come
    /// (ARCHITECTURE.md §4.8): only this attempt's provisional charge is taken back. The pair's
    /// earlier failures stay and it is not yet known, so knowing the password buys no fresh
    /// budget of code guesses: wrong codes are charged like wrong passwords until the pair locks.
    public func passwordAccepted(on ledger: any FailureLedger, admittedAt: Date) async throws {
        try await ledger.forgive([pair, name, address], at: admittedAt)
    }

    /// A login by SSH key proves the person as well as a password: the pair becomes known. Key
    /// logins never consult or charge the password budgets.
    public func keyLoginSucceeded(on ledger: any FailureLedger, at now: Date) async throws {
        try await Self.remember(known, on: ledger, at: now)
    }

    private static func remember(_ key: FailureKey, on ledger: any FailureLedger, at now: Date) async throws {
        try await ledger.clearFailures(key)
        try await ledger.recordFailure([key], at: now)
    }
}
