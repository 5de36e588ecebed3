import Crypto
import Foundation

/// The codes a person keeps for when their authenticator is lost (ARCHITECTURE.md §4.8): ten at
/// confirmation, shown once, stored only as hashes, each accepted once. Sixteen characters of a
/// 32-letter alphabet without look-alikes (Crockford's: no i, l, o, u), 80 bits each, shown as
/// `xxxx-xxxx-xxxx-xxxx`. At 80 bits a plain SHA-256 is enough: no list of guesses reaches one.
public enum RecoveryCode {
    public static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
    public static let length = 16
    public static let batch = 10

    /// `batch` fresh codes, grouped for display.
    public static func generate(using random: any RandomSource) -> [String] {
        (0..<batch).map { _ in
            let letters = random.uniform(below: alphabet.count, count: length).map { alphabet[$0] }
            return stride(from: 0, to: length, by: 4).map { String(letters[$0..<$0 + 4]) }.joined(separator: "-")
        }
    }

    /// Lower case without separators, or nil when `text` cannot be a recovery code.
    public static func normalize(_ text: String) -> String? {
        let kept = text.lowercased().filter { $0 != "-" && $0 != " " }
        guard kept.count == length, kept.allSatisfy(alphabet.contains) else { return nil }
        return kept
    }

    /// The stored form: hex SHA-256 of the normalized code.
    public static func hash(_ code: String) -> String? {
        normalize(code).map(SecretToken.hash)
    }
}
