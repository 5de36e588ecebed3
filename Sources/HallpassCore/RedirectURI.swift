import Foundation

/// A client's registered redirect URI (RFC 6749 §3.1.2), for the authorization code grant of
/// issue 15. Registration is strict: absolute, no fragment (§3.1.2), no user information, no
/// white space or control characters, and `https`, or `http` only for a loopback IP literal
/// (RFC 8252 §7.3, §8.3: `localhost` is not accepted). A request's `redirect_uri` matches by
/// exact string comparison (RFC 9700 §4.1.3), except that a loopback registration matches any
/// port, since a native app binds whichever port is free (RFC 8252 §7.3).
public struct RedirectURI: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    /// `http://127.0.0.1…` or `http://[::1]…`: matched without its port.
    public let isLoopback: Bool

    public enum Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        case notAbsolute, fragment, userInfo, forbiddenCharacter, scheme(String), localhost, tooLong
        case badPort, dotSegment, wildcard, reservedParameter(String)
        public var description: String {
            switch self {
            case .notAbsolute: "a redirect URI must be absolute, like https://app.example/callback"
            case .fragment: "a redirect URI may not contain a fragment (#…) (RFC 6749 section 3.1.2)"
            case .userInfo: "a redirect URI may not contain a user name or password"
            case .forbiddenCharacter: "a redirect URI may not contain spaces, control characters or non-ASCII characters"
            case .scheme(let scheme):
                "a redirect URI must use https, or http only on 127.0.0.1 or [::1] (got \(FormBody.quoted(scheme)))"
            case .localhost: "use http://127.0.0.1/… or http://[::1]/… rather than localhost (RFC 8252 section 8.3)"
            case .tooLong: "a redirect URI may be at most 2,000 characters"
            case .badPort: "a redirect URI's port is 1 to 65535, without leading zeros"
            case .dotSegment: "a redirect URI's path may not contain . or .. segments (browsers would remove them, and it would never match)"
            case .wildcard: "a redirect URI is one exact address: '*' is not allowed"
            case .reservedParameter(let name):
                "a redirect URI's query may not hold \(name), which the authorization response adds (RFC 6749 section 4.1.2, RFC 9207)"
            }
        }
    }

    /// What an authorization response adds to the redirect URI's query.
    static let responseParameters: Set<String> = ["code", "state", "iss", "error", "error_description", "error_uri"]

    /// The authority after `scheme://`: a port, if any, is 1–5 digits without a leading zero, 1…65535.
    static func portIsSound(_ rest: Substring) -> Bool {
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let hostEnd = authority.hasPrefix("[") ? (authority.firstIndex(of: "]").map { authority.index(after: $0) } ?? authority.endIndex)
                                               : (authority.firstIndex(of: ":") ?? authority.endIndex)
        let afterHost = authority[hostEnd...]
        guard afterHost.first == ":" else { return afterHost.isEmpty }
        return isPort(afterHost.dropFirst())
    }

    static func isPort(_ digits: Substring) -> Bool {
        guard (1...5).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }), digits.first != "0",
              let port = Int(digits), port <= 65535 else { return false }
        return true
    }

    /// The loopback hosts RFC 8252 §7.3 names, as they appear in a URI.
    static let loopbackPrefixes = ["http://127.0.0.1", "http://[::1]"]

    public init(registering text: String) throws(Invalid) {
        guard text.utf8.count <= 2000 else { throw .tooLong }
        guard text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { throw .forbiddenCharacter }
        guard !text.contains("#") else { throw .fragment }
        guard let components = URLComponents(string: text), let scheme = components.scheme else { throw .notAbsolute }
        guard scheme == "https" || scheme == "http" else { throw .scheme(scheme) }
        guard let host = components.host, !host.isEmpty else { throw .notAbsolute }
        guard components.user == nil, components.password == nil else { throw .userInfo }
        guard !text.contains("*") else { throw .wildcard }
        guard Self.portIsSound(text.dropFirst(scheme.count + 3)) else { throw .badPort }
        let segments = components.percentEncodedPath.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.contains(where: { [".", "..", "%2e", "%2E", "%2e%2e", "%2E%2E", ".%2e", "%2e."].contains($0.lowercased()) })
        else { throw .dotSegment }
        if let reserved = (components.queryItems ?? []).first(where: { Self.responseParameters.contains($0.name) }) {
            throw .reservedParameter(reserved.name)
        }
        let loopback = Self.loopbackPrefixes.contains { prefix in
            text.hasPrefix(prefix) && Self.restAfterPort(text.dropFirst(prefix.count)) != nil
        }
        switch scheme {
        case "https":
            break
        case "http" where loopback:
            break
        case "http" where host.lowercased() == "localhost":
            throw .localhost
        default:
            throw .scheme(scheme)
        }
        value = text
        isLoopback = loopback
    }

    /// RFC 9700 §4.1.3: the request's `redirect_uri` is this registration, character for
    /// character; a loopback registration, with any port (or none) in its place.
    public func matches(_ requested: String) -> Bool {
        guard isLoopback else { return requested == value }
        guard let prefix = Self.loopbackPrefixes.first(where: { value.hasPrefix($0) }),
              requested.hasPrefix(prefix),
              let registeredRest = Self.restAfterPort(value.dropFirst(prefix.count)),
              let requestedRest = Self.restAfterPort(requested.dropFirst(prefix.count))
        else { return false }
        return registeredRest == requestedRest
    }

    /// What follows the host: an optional `:port` (digits, at most 5) dropped, then nothing or a
    /// path or query. Nil when something else follows (`http://127.0.0.10/`, `http://127.0.0.1.evil/`).
    static func restAfterPort(_ text: Substring) -> Substring? {
        var rest = text
        if rest.first == ":" {
            let digits = rest.dropFirst().prefix { $0.isASCII && $0.isNumber }
            guard isPort(digits) else { return nil }
            rest = rest.dropFirst(1 + digits.count)
        }
        guard rest.isEmpty || rest.first == "/" || rest.first == "?" else { return nil }
        return rest
    }

    public var description: String { value }
}
