import Foundation

/// The short code a person types on the approving terminal (RFC 8628 §6.1).
///
/// Eight characters from `BCDFGHJKLMNPQRSTVWXZ` (20 consonants: no vowels, so no words, and no
/// easily confused digits), about 34.6 bits of entropy, shown as `XXXX-XXXX`. Input is matched
/// case- and separator-insensitively; any other character is rejected (RFC 8628 §6.1).
public struct UserCode: Hashable, Sendable, CustomStringConvertible {
    public static let alphabet: [Character] = Array("BCDFGHJKLMNPQRSTVWXZ")
    public static let length = 8

    /// The canonical form: eight upper-case alphabet characters, no separator.
    public let normalized: String

    /// Generates a fresh code from `random`.
    public static func generate(using random: any RandomSource) -> UserCode {
        let characters = random.uniform(below: alphabet.count, count: length).map { alphabet[$0] }
        return UserCode(unchecked: String(characters))
    }

    private init(unchecked normalized: String) { self.normalized = normalized }

    /// Parses what a person typed: lower case, spaces and dashes are accepted, nothing else.
    public init(parsing input: String) throws(UserCodeError) {
        var kept: [Character] = []
        for character in input {
            if character == "-" || character == " " { continue }
            // Upper-casing can lengthen a character ("ß" → "SS"): only a single one can match.
            let uppered = character.uppercased()
            guard uppered.count == 1, let upper = uppered.first, UserCode.alphabet.contains(upper) else {
                throw .invalidCharacter(character)
            }
            kept.append(upper)
            if kept.count > UserCode.length { throw .wrongLength }
        }
        guard kept.count == UserCode.length else { throw .wrongLength }
        self.normalized = String(kept)
    }

    /// `XXXX-XXXX`, as shown to people (RFC 8628 §6.1 recommends a separator).
    public var display: String {
        "\(normalized.prefix(4))-\(normalized.suffix(4))"
    }

    public var description: String { display }

    /// Every code that differs from this one in exactly one position: the near misses a
    /// brute-force attacker with partial knowledge (or a typo) would produce.
    public var neighbours: [String] {
        var result: [String] = []
        result.reserveCapacity(UserCode.length * (UserCode.alphabet.count - 1))
        let chars = Array(normalized)
        for index in chars.indices {
            for replacement in UserCode.alphabet where replacement != chars[index] {
                var copy = chars
                copy[index] = replacement
                result.append(String(copy))
            }
        }
        return result
    }
}

public enum UserCodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case invalidCharacter(Character)
    case wrongLength

    public var description: String {
        switch self {
        case .invalidCharacter(let c):
            "“\(TerminalText.sanitize(String(c)))” cannot appear in a code (letters \(String(UserCode.alphabet)) only)"
        case .wrongLength:
            "a code has 8 letters, like BCDF-GHJK"
        }
    }
}
