import Foundation
import HallpassCore
import HallpassStore

/// Registered clients as the token and device authorization endpoints see them, remembered for
/// `lifetime` (1 s): every poll authenticates its client, and on PostgreSQL that read was half of
/// a poll's round trips. Clients change only through the admin CLI (another process, possibly
/// on another machine), so a change — a removed client, a new secret — takes effect on every
/// replica within `lifetime`. Unknown ids are not remembered: a client added a moment ago works
/// at once, and ids an attacker makes up cannot fill the table.
final class ClientCache: Sendable {
    private let table: ExpiringTable<String, OAuthClient>

    init(lifetime: TimeInterval = 1, capacity: Int = 4096) {
        table = ExpiringTable(lifetime: lifetime, capacity: capacity)
    }

    var lifetime: TimeInterval { table.lifetime }

    func client(id: String, store: any ClientStore, now: Date) async throws -> OAuthClient? {
        if let cached = table.value(for: id, now: now) { return cached }
        guard let client = try await store.client(id: id) else {
            table.remove(id)
            return nil
        }
        table.store(client, for: id, now: now)
        return client
    }
}
