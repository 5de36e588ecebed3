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
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.unicodeScalars.allSatisfy(Self.isToken68) else { return nil }
        self.token = token
    }

    static func isToken68(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-._~+/=".unicodeScalars.contains(scalar))
    }
}
