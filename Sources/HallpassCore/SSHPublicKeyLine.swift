import Crypto
import Foundation

/// One public key as an `authorized_keys` / `.pub` line: `TYPE BASE64 [comment]`.
/// Only the key types the SSH front can verify are accepted (Ed25519 and ECDSA over NIST
/// curves); RSA is refused with a message that says so.
public struct SSHPublicKeyLine: Equatable, Sendable {
    public static let acceptedTypes: Set<String> = [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    ]

    public var type: String
    /// The key blob, base64 as in the line.
    public var blob: String
    public var comment: String

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case empty, unsupportedType(String), badBase64, typeMismatch

        public var description: String {
            switch self {
            case .empty: "no public key given (expected a line like `ssh-ed25519 AAAA… comment`)"
            case .unsupportedType(let type):
                "key type \(type) is not accepted; use ssh-ed25519 or ecdsa-sha2-nistp256/384/521 (ssh-keygen -t ed25519)"
            case .badBase64: "the key is not valid base64"
            case .typeMismatch: "the key's contents do not match its type"
            }
        }
    }

    public init(parsing text: String) throws(ParseError) {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard fields.count >= 2 else { throw .empty }
        type = String(fields[0])
        guard Self.acceptedTypes.contains(type) else { throw .unsupportedType(TerminalText.sanitize(String(type.prefix(40)))) }
        blob = String(fields[1])
        guard let bytes = Data(base64Encoded: blob), bytes.count >= 4 else { throw .badBase64 }
        // RFC 4253 §6.6: the blob starts with its own type as an SSH string.
        let length = bytes.prefix(4).reduce(0) { $0 << 8 | Int($1) }
        guard bytes.count >= 4 + length, String(decoding: bytes.dropFirst(4).prefix(length), as: UTF8.self) == type
        else { throw .typeMismatch }
        comment = fields.dropFirst(2).joined(separator: " ")
    }

    public init(type: String, blob: String, comment: String = "") {
        self.type = type
        self.blob = blob
        self.comment = comment
    }

    /// `SHA256:` and the unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it.
    public var fingerprint: String {
        let digest = SHA256.hash(data: Data(base64Encoded: blob) ?? Data())
        return "SHA256:" + Data(digest).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }
}
