import Foundation

/// An access token as a request presents it in `Authorization`: `Bearer` (RFC 6750 §2.1) or
/// `DPoP` (RFC 9449 §7.1), the scheme in any case, then one token of token68 characters.
public struct PresentedAccessToken: Sendable, Equatable {
    public enum Scheme: String, Sendable {
        case bearer = "Bearer"
        case dpop = "DPoP"
    }

    public let scheme: Scheme
    public let token: String

    public init(scheme: Scheme, token: String) {
        (self.scheme, self.token) = (scheme, token)
    }

    /// Nil for no header, another scheme, or a token that is empty or not token68 (RFC 9110 §11.2).
    public init?(authorization header: String?) {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        switch parts[0].lowercased() {
        case "bearer": scheme = .bearer
        case "dpop": scheme = .dpop
        default: return nil
        }
        // Spaces and tabs around the token (RFC 9110 §5.6.3), trimmed without Foundation's
        // character sets: this runs on every request to a protected route.
        let bytes = Array(parts[1].utf8)
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 }
        guard let first = bytes.firstIndex(where: { !blank($0) }), let last = bytes.lastIndex(where: { !blank($0) }) else { return nil }
        let token = String(decoding: bytes[first...last], as: UTF8.self)
        guard !token.isEmpty, token.utf8.allSatisfy(Self.isToken68) else { return nil }
        self.token = token
    }

    /// RFC 9110 §11.2 token68: ALPHA, DIGIT, `-._~+/` and `=` (bytes: no Unicode tables per request).
    static func isToken68(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"),
             UInt8(ascii: "="): true
        default: false
        }
    }
}
