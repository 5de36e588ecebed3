import Foundation

/// Why a login attempt is not even tried, and for how long (the budgets of `FailureBudget`).
/// The same rules hold for the consent API and the SSH front; nothing here depends on whether
/// the name exists.
public struct LoginRefusal: Error, Sendable, Equatable {
    public enum Reason: Sendable, Equatable {
        /// This name failed too often from this address: locked for this pair only.
        case pair
        /// This name failed from many addresses: throttled, except at addresses it logged in from.
        case name
        /// This address failed for many names: throttled, except for names that logged in from it.
        case address
    }

    public var reason: Reason
    public var retryAfter: Int

    public init(reason: Reason, retryAfter: Int) {
        self.reason = reason
        self.retryAfter = retryAfter
    }

    /// What the person is told (the consent API's `error_description`, the TUI's message).
    public var message: String {
        switch reason {
        case .pair: "too many failed logins for this name from your address; try again in \(retryAfter) seconds"
        case .name: "this name has had many failed logins from many addresses; wait \(retryAfter) seconds before the next try"
        case .address: "too many failed logins from your address; wait \(retryAfter) seconds before the next try"
        }
    }

    /// The decision for one attempt by a name from an address, given the failures recorded for
    /// the pair, the name and the address, and whether the name logged in from this address in
    /// the last 30 days (`known`). The pair lock always holds; a known pair skips both throttles.
    /// Nil means try the password. When several refuse, the longest wait is the one reported.
    public static func decide(pair: [Date], name: [Date], address: [Date], known: Bool, at now: Date) -> LoginRefusal? {
        var refusals: [LoginRefusal] = []
        if let wait = FailureBudget.loginByPair.retryAfter(pair, at: now) { refusals.append(.init(reason: .pair, retryAfter: wait)) }
        if !known {
            if let wait = FailureBudget.loginByName.retryAfter(name, at: now) { refusals.append(.init(reason: .name, retryAfter: wait)) }
            if let wait = FailureBudget.loginByAddress.retryAfter(address, at: now) {
                refusals.append(.init(reason: .address, retryAfter: wait))
            }
        }
        return refusals.max { $0.retryAfter < $1.retryAfter }
    }
}
