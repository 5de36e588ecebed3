import Foundation
import Synchronization

/// A bounded, thread-safe table whose entries count for `lifetime` after they were stored, by
/// an injected time (tests move it). When full, expired entries go first, and if that is not
/// enough, all of them: the table never grows past `capacity`, and losing an entry only costs
/// the work it saved. Behind `ClientCache`, `VerifiedSecretCache` and `VerifiedTokenCache`.
public final class ExpiringTable<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var storedAt: Date
    }
    private let entries = Mutex<[Key: Entry]>([:])
    public let lifetime: TimeInterval
    public let capacity: Int

    public init(lifetime: TimeInterval, capacity: Int) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// The value stored under `key` within `lifetime` before `now`; an older one is dropped.
    public func value(for key: Key, now: Date) -> Value? {
        entries.withLock { table in
            guard let entry = table[key] else { return nil }
            if entry.storedAt <= now, now.timeIntervalSince(entry.storedAt) < lifetime { return entry.value }
            table[key] = nil
            return nil
        }
    }

    public func store(_ value: Value, for key: Key, now: Date) {
        entries.withLock { table in
            if table[key] == nil, table.count >= capacity {
                table = table.filter { now.timeIntervalSince($0.value.storedAt) < lifetime }
                if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            }
            table[key] = Entry(value: value, storedAt: now)
        }
    }

    public func remove(_ key: Key) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }

    public var count: Int { entries.withLock { $0.count } }
}
