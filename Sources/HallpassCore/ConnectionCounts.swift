/// Open connections counted in total and per client address, for admission budgets (push
/// sockets, SSH connections). Not synchronized: keep it behind the owner's lock.
public struct ConnectionCounts: Sendable {
    public private(set) var total = 0
    private var byAddress: [String: Int] = [:]

    public init() {}

    /// Counts one more connection from `address` if that stays within both limits.
    public mutating func admit(_ address: String, total limit: Int, perAddress: Int) -> Bool {
        guard total < limit, byAddress[address, default: 0] < perAddress else { return false }
        total += 1
        byAddress[address, default: 0] += 1
        return true
    }

    /// One connection from `address` has closed.
    public mutating func release(_ address: String) {
        total -= 1
        byAddress[address, default: 1] -= 1
        if byAddress[address] == 0 { byAddress[address] = nil }
    }
}
