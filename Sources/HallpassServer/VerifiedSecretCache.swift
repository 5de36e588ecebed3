import Crypto
import Foundation
import HallpassCore

/// Recently verified client credentials, so that a confidential client that authenticates on
/// every request (a resource server introspecting, a device polling) pays for Argon2id once per
/// `lifetime`, not per request.
///
/// An entry is keyed by HMAC-SHA256 under a key made at start and never stored, over the client
/// id, the presented secret and the stored hash: the table holds no secret, an entry cannot be
/// matched without the secret, and it stops matching the moment the client's stored hash changes
/// (a new secret; a removed client is refused before the cache is asked). Only successes are
/// remembered, so every wrong secret still costs a full Argon2id verification. Bounded
/// (`ExpiringTable`).
final class VerifiedSecretCache: Sendable {
    private let key = SymmetricKey(size: .bits256)
    private let table: ExpiringTable<Data, Bool>

    init(lifetime: TimeInterval = 60, capacity: Int = 1024) {
        table = ExpiringTable(lifetime: lifetime, capacity: capacity)
    }

    /// True when this exact (id, secret, stored hash) was verified within `lifetime` before `now`.
    func contains(id: String, secret: String, stored: String, now: Date) -> Bool {
        table.value(for: tag(id: id, secret: secret, stored: stored), now: now) != nil
    }

    /// Remembers a verification that succeeded at `now`.
    func insert(id: String, secret: String, stored: String, now: Date) {
        table.store(true, for: tag(id: id, secret: secret, stored: stored), now: now)
    }

    var count: Int { table.count }

    private func tag(id: String, secret: String, stored: String) -> Data {
        // Each field is prefixed by its length, so no field's bytes can stand for another's.
        var message = Data()
        for part in [id, secret, stored] {
            withUnsafeBytes(of: UInt64(part.utf8.count).bigEndian) { message.append(contentsOf: $0) }
            message.append(contentsOf: part.utf8)
        }
        return Data(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }
}
