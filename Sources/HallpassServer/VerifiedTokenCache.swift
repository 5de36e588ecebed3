import Foundation
import HallpassCore

/// Access tokens whose signature was verified in the last `lifetime`, so that a resource server
/// introspecting the same token on every API call (or a client calling userinfo) pays for the
/// Ed25519 check and the JWT decoding once per `lifetime`, not per call.
///
/// Only the signature check is remembered. Revocation, expiry and the account are judged on
/// every call against the store, so a revoked token stops at once. A signature over a given
/// token cannot stop verifying while its key is published, and a retired key stays published
/// until every token it signed has expired (`GrantPolicy.retiredKeyGrace`); so the only change
/// an entry can miss is a key deleted from the database by hand, and that takes effect within
/// `lifetime`.
final class VerifiedTokenCache: Sendable {
    private let table: ExpiringTable<String, AccessTokenClaims>

    init(lifetime: TimeInterval = 60, capacity: Int = 4096) {
        table = ExpiringTable(lifetime: lifetime, capacity: capacity)
    }

    /// The claims of `token` if its signature was verified within `lifetime` before `now`.
    func claims(of token: String, now: Date) -> AccessTokenClaims? { table.value(for: token, now: now) }

    func insert(_ token: String, claims: AccessTokenClaims, now: Date) { table.store(claims, for: token, now: now) }
}
