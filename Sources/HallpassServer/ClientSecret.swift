import Crypto
import Foundation
import HallpassCore

/// Client secrets at rest (RFC 6749 §2.3.1, RFC 9700 §2.5: secrets must not be recoverable from
/// the database).
///
/// Two kinds, told apart by the stored string:
/// - **Generated** (`clients add --generate-secret`): 256 random bits that no person chose, so no
///   dictionary helps and one fast keyed hash is as unrecoverable as Argon2id. Stored as
///   `$hallpass-hmac-sha256$v=1$` + base64url(HMAC-SHA256(key: secret, "client_secret" ‖ 0 ‖ id)),
///   so a row copied to another client id does not authenticate it. Verifying costs about a
///   microsecond.
/// - **Chosen by the operator** (`--secret-stdin`): Argon2id (`PasswordHasher`), because a
///   person's secret can be guessed; `VerifiedSecretCache` keeps a repeated correct
///   authentication from paying for it every time.
///
/// A wrong secret costs one Argon2id verification whatever the kind, as an unknown client id does
/// (`PasswordHasher.decoy`): failures look alike and stay as slow as they always were.
public enum ClientSecret {
    static let generatedPrefix = "$hallpass-hmac-sha256$v=1$"
    /// 32 bytes: RFC 9700 §2.5 and RFC 6749 §10.10 ask for at least 128 bits; we give 256.
    public static let generatedBytes = 32

    /// A fresh secret (43 base64url characters) and its stored form.
    public static func generate(clientID: String, random: any RandomSource = SystemRandomSource()) -> (secret: String, stored: String) {
        let secret = Base64URL.encode(Data(random.bytes(generatedBytes)))
        return (secret, storedForm(generated: secret, clientID: clientID))
    }

    /// The stored form of a generated secret.
    public static func storedForm(generated secret: String, clientID: String) -> String {
        generatedPrefix + Base64URL.encode(Data(mac(secret, clientID: clientID)))
    }

    /// True when `stored` is a generated secret's fast hash (not an Argon2id string).
    public static func isGenerated(_ stored: String) -> Bool { stored.hasPrefix(generatedPrefix) }

    /// Checks `secret` against `stored`: a constant-time comparison for generated secrets,
    /// Argon2id for chosen ones (on the thread pool). False for anything malformed.
    static func matches(_ secret: String, stored: String, clientID: String) async -> Bool {
        guard isGenerated(stored) else { return await PasswordHasher.verifyOnThreadPool(secret, hash: stored) }
        guard let expected = Base64URL.decode(String(stored.dropFirst(generatedPrefix.count))) else { return false }
        let actual = mac(secret, clientID: clientID)
        guard expected.count == actual.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, actual) { difference |= a ^ b }
        return difference == 0
    }

    private static func mac(_ secret: String, clientID: String) -> [UInt8] {
        let key = SymmetricKey(data: Data(secret.utf8))
        var message = Data("client_secret".utf8)
        message.append(0)
        message.append(contentsOf: clientID.utf8)
        return Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
    }
}
