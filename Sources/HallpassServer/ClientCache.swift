import Foundation
import HallpassCore
import HallpassStore
import Synchronization

/// Registered clients as the token and device authorization endpoints see them, remembered for
/// `lifetime` (1 s): every poll authenticates its client, and on PostgreSQL that read was half of
/// a poll's round trips. Clients change only through the admin CLI (another process, possibly
/// on another machine), so a change — a removed client, a new secret — takes effect on every
/// replica within `lifetime`. Unknown ids are not remembered: a client added a moment ago works
/// at once, and ids an attacker makes up cannot fill the table.
final class ClientCache: Sendable {
    private struct Entry {
        var client: OAuthClient
        var fetchedAt: Date
    }
    private let entries = Mutex<[String: Entry]>([:])
    let lifetime: TimeInterval
    let capacity: Int

    init(lifetime: TimeInterval = 1, capacity: Int = 4096) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func client(id: String, store: any ClientStore, now: Date) async throws -> OAuthClient? {
        let cached = entries.withLock { table -> OAuthClient? in
            guard let entry = table[id], entry.fetchedAt <= now, now.timeIntervalSince(entry.fetchedAt) < lifetime else { return nil }
            return entry.client
        }
        if let cached { return cached }
        guard let client = try await store.client(id: id) else {
            entries.withLock { _ = $0.removeValue(forKey: id) }
            return nil
        }
        entries.withLock { table in
            if table.count >= capacity {
                table = table.filter { now.timeIntervalSince($0.value.fetchedAt) < lifetime }
                if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            }
            table[id] = Entry(client: client, fetchedAt: now)
        }
        return client
    }
}
