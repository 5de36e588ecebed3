import Crypto
import Foundation

/// Server-provided DPoP nonces (RFC 9449 §8): stateless, so every replica honours every other's
/// without sharing a table. A nonce is the time step it was made in and an HMAC of that step under
/// a key the replicas share (derived from the signing keys they already share); it is honoured for
/// `lifetime` after its step began. A client that keeps using the last `DPoP-Nonce` it was given
/// never waits, and a proof with a valid nonce is fresh whatever the device's clock says.
public struct DPoPNonce: Sendable {
    public let step: TimeInterval
    public let lifetime: TimeInterval

    public init(step: TimeInterval = 60, lifetime: TimeInterval = 180) {
        (self.step, self.lifetime) = (step, lifetime)
    }

    /// The nonce for `now`, under `key` (the first of the keys `isValid` is given).
    public func issue(at now: Date, key: SymmetricKey) -> String {
        let counter = UInt64(max(0, now.timeIntervalSince1970 / step))
        return Self.encode(counter, key: key)
    }

    /// True when `nonce` was issued under one of `keys` no more than `lifetime` ago (and not in a
    /// step that has not begun).
    public func isValid(_ nonce: String, at now: Date, keys: [SymmetricKey]) -> Bool {
        guard nonce.utf8.count == 32, let bytes = Base64URL.decodeStrict(nonce), bytes.count == 24 else { return false }
        let counter = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let began = TimeInterval(counter) * step
        let nowSeconds = now.timeIntervalSince1970
        guard began <= nowSeconds, nowSeconds - began < lifetime else { return false }
        // Compared without an early exit, so the time taken says nothing of how much matched.
        return keys.contains { key in
            zip(Self.encode(counter, key: key).utf8, nonce.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
        }
    }

    static func encode(_ counter: UInt64, key: SymmetricKey) -> String {
        let stepBytes = (0..<8).reversed().map { UInt8(truncatingIfNeeded: counter >> (8 * UInt64($0))) }
        let mac = HMAC<SHA256>.authenticationCode(for: Data("hallpass dpop nonce\0".utf8) + stepBytes, using: key)
        return Base64URL.encode(stepBytes + Array(mac).prefix(16))
    }

    /// A nonce key from secret material the replicas share (HKDF-SHA256, RFC 5869).
    public static func key(from secret: Data) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: secret), info: Data("hallpass dpop nonce key".utf8),
                               outputByteCount: 32)
    }
}
