import Crypto
import Foundation

/// Proof Key for Code Exchange (RFC 7636), S256 only: RFC 9700 §2.1.1 requires PKCE of every
/// client and `plain` is not offered. Issue 15's authorization endpoint stores a
/// `CodeChallenge`; its token endpoint checks the `code_verifier` against it.
public enum PKCE {
    /// RFC 7636 §4.1: `code-verifier = 43*128unreserved`, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~".
    public static func isVerifier(_ text: String) -> Bool {
        (43...128).contains(text.utf8.count) && text.utf8.allSatisfy(isUnreserved)
    }

    /// A `code_challenge` with `code_challenge_method=S256` (RFC 7636 §4.2-4.3): base64url of a
    /// SHA-256 digest without padding, so exactly 43 characters.
    public struct CodeChallenge: Hashable, Sendable, CustomStringConvertible {
        public let value: String

        /// Why a request's PKCE parameters are refused (the authorization endpoint answers
        /// `invalid_request` with this description).
        public enum Invalid: Error, Equatable, Sendable, CustomStringConvertible {
            case missing, unsupportedMethod(String), malformed
            public var description: String {
                switch self {
                case .missing: "code_challenge is required (PKCE, RFC 7636; S256)"
                case .unsupportedMethod(let method):
                    "code_challenge_method \(FormBody.quoted(method)) is not supported; use S256"
                case .malformed: "code_challenge must be 43 base64url characters (S256 of the code_verifier)"
                }
            }
        }

        /// From the request's parameters. A missing method means `plain` (RFC 7636 §4.3), which
        /// Hallpass does not accept.
        public init(challenge: String?, method: String?) throws(Invalid) {
            guard let challenge, !challenge.isEmpty else { throw .missing }
            guard let method, method == "S256" else { throw .unsupportedMethod(method ?? "plain") }
            guard challenge.utf8.count == 43, challenge.utf8.allSatisfy(PKCE.isBase64URL) else { throw .malformed }
            value = challenge
        }

        /// RFC 7636 §4.6: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge. A
        /// verifier that is not 43–128 unreserved characters never matches.
        public func isSatisfied(by verifier: String) -> Bool {
            guard PKCE.isVerifier(verifier) else { return false }
            let computed = Base64URL.encode(SHA256.hash(data: Data(verifier.utf8)))
            // Compared in constant time: the challenge is no secret, but the habit costs nothing.
            return computed.utf8.count == value.utf8.count
                && zip(computed.utf8, value.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
        }

        public var description: String { value }
    }

    static func isUnreserved(_ byte: UInt8) -> Bool {
        isBase64URL(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "~")
    }

    static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): true
        default: false
        }
    }
}
