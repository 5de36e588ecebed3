import Crypto
import Foundation
import Synchronization

/// Recently verified client credentials, so that a confidential client that authenticates on
/// every request (a resource server introspecting, a device polling) pays for Argon2id once per
/// `lifetime`, not per request.
///
/// An entry is keyed by HMAC-SHA256 under a key made at start and never stored, over the client
/// id, the presented secret and the stored hash: the table holds no secret, an entry cannot be
/// matched without the secret, and it stops matching the moment the client's stored hash changes
/// (a new secret; a removed client is refused before the cache is asked). Only successes are
/// remembered, so every wrong secret still costs a full Argon2id verification. Bounded: when full,
/// expired entries go, and if that is not enough, all of them.
final class VerifiedSecretCache: Sendable {
    private let key = SymmetricKey(size: .bits256)
    private let entries = Mutex<[Data: Date]>([:])
    let lifetime: TimeInterval
    let capacity: Int

    init(lifetime: TimeInterval = 60, capacity: Int = 1024) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    /// True when this exact (id, secret, stored hash) was verified within `lifetime` before `now`.
    func contains(id: String, secret: String, stored: String, now: Date) -> Bool {
        let tag = self.tag(id: id, secret: secret, stored: stored)
        return entries.withLock { table in
            guard let verifiedAt = table[tag] else { return false }
            if verifiedAt <= now, now.timeIntervalSince(verifiedAt) < lifetime { return true }
            table[tag] = nil
            return false
        }
    }

    /// Remembers a verification that succeeded at `now`.
    func insert(id: String, secret: String, stored: String, now: Date) {
        let tag = self.tag(id: id, secret: secret, stored: stored)
        entries.withLock { table in
            if table[tag] == nil, table.count >= capacity {
                table = table.filter { now.timeIntervalSince($0.value) < lifetime }
                if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            }
            table[tag] = now
        }
    }

    var count: Int { entries.withLock { $0.count } }

    private func tag(id: String, secret: String, stored: String) -> Data {
        var message = Data()
        for part in [id, secret, stored] {
            message.append(contentsOf: part.utf8)
            message.append(0)
        }
        return Data(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }
}
