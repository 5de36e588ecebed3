import Foundation

/// A registered client (RFC 6749 §2). Public clients (devices cannot keep secrets) identify
/// with `client_id` alone; confidential ones authenticate with a secret stored as a hash.
public struct OAuthClient: Sendable, Equatable {
    public enum GrantType: String, Sendable, CaseIterable, Codable {
        case deviceCode = "urn:ietf:params:oauth:grant-type:device_code"
        case refreshToken = "refresh_token"
        /// RFC 6749 §4.1, with PKCE (RFC 7636) required.
        case authorizationCode = "authorization_code"
        /// OpenID Connect CIBA Core 1.0 §10.1: the backchannel request's token, polled.
        case ciba = "urn:openid:params:grant-type:ciba"

        /// The short names the CLI takes (`--grant device_code`).
        public init?(shortName: String) {
            switch shortName {
            case "device_code", GrantType.deviceCode.rawValue: self = .deviceCode
            case "refresh_token": self = .refreshToken
            case "authorization_code": self = .authorizationCode
            case "ciba", GrantType.ciba.rawValue: self = .ciba
            default: return nil
            }
        }

        public var shortName: String {
            switch self {
            case .deviceCode: "device_code"
            case .ciba: "ciba"
            default: rawValue
            }
        }
    }

    public var id: String
    /// Supplied by whoever registered the client: shown on consent screens only as marked,
    /// sanitized client text.
    public var name: String
    /// Argon2id hash of the secret; nil for a public client.
    public var secretHash: String?
    public var scopes: ScopeSet
    public var grantTypes: [GrantType]
    public var codeLifetime: TimeInterval
    public var interval: Int
    public var canIntrospect: Bool
    /// OpenID Connect Registration §2 `id_token_signed_response_alg`; nil means RS256.
    public var idTokenSigningAlgorithm: String?
    /// Where the authorization endpoint may send the browser back (RFC 6749 §3.1.2), each
    /// already validated by `RedirectURI(registering:)`.
    public var redirectURIs: [RedirectURI]
    /// RFC 9449 §5.2 `dpop_bound_access_tokens`: every token request must carry a DPoP proof.
    public var requiresDPoP: Bool
    /// BCP 247: what consent does when the approver is on another network than the device.
    public var proximity: ProximityPolicy
    /// BCP 247 "trusted networks": device authorization only from these (nil: the server's
    /// `device_networks`, if any).
    public var deviceNetworks: AddressRanges?
    /// BCP 247 limited, short-lived results: this client's token lifetimes, each only shorter
    /// than the server's (`GrantPolicy`); nil is the server's. The refresh lifetime is absolute
    /// (from the approval); the idle one ends a grant not refreshed for that long.
    public var accessTokenLifetime: TimeInterval?
    public var refreshTokenLifetime: TimeInterval?
    public var refreshIdleLifetime: TimeInterval?
    /// BCP 247 limited scopes: the most a device grant (the cross-device grant: someone
    /// else's screen approves what this device gets) may ask for; nil is the client's `scopes`.
    public var crossDeviceScopes: ScopeSet?
    /// Issue 18: approving this client's requests needs a consent session opened with a second
    /// factor (`clients add --require-totp`; `SecondFactorDemand.client`).
    public var requiresTOTP = false
    /// CIBA Core §5: how this client gets its tokens (`--ciba-mode`), and where ping and push
    /// deliveries go (`--ciba-notification-endpoint`).
    public var backchannelMode = BackchannelDeliveryMode.poll
    public var backchannelNotificationEndpoint: String?

    /// The algorithms `idTokenSigningAlgorithm` may name.
    public static let idTokenAlgorithms = ["RS256", "EdDSA", "ES256"]

    public var isPublic: Bool { secretHash == nil }

    public init(
        id: String, name: String, secretHash: String?, scopes: ScopeSet, grantTypes: [GrantType],
        codeLifetime: TimeInterval = 600, interval: Int = 5, canIntrospect: Bool = false, idTokenSigningAlgorithm: String? = nil,
        redirectURIs: [RedirectURI] = [], requiresDPoP: Bool = false, proximity: ProximityPolicy = .warn,
        deviceNetworks: AddressRanges? = nil, accessTokenLifetime: TimeInterval? = nil, refreshTokenLifetime: TimeInterval? = nil,
        refreshIdleLifetime: TimeInterval? = nil, crossDeviceScopes: ScopeSet? = nil
    ) {
        self.id = id
        self.name = name
        self.secretHash = secretHash
        self.scopes = scopes
        self.grantTypes = grantTypes
        self.codeLifetime = codeLifetime
        self.interval = interval
        self.canIntrospect = canIntrospect
        self.idTokenSigningAlgorithm = idTokenSigningAlgorithm
        self.redirectURIs = redirectURIs
        self.requiresDPoP = requiresDPoP
        self.proximity = proximity
        self.deviceNetworks = deviceNetworks
        self.accessTokenLifetime = accessTokenLifetime
        self.refreshTokenLifetime = refreshTokenLifetime
        self.refreshIdleLifetime = refreshIdleLifetime
        self.crossDeviceScopes = crossDeviceScopes
    }

    /// What a device authorization may ask for: the client's scopes, within the cross-device
    /// ceiling when there is one.
    public var deviceGrantCeiling: ScopeSet {
        crossDeviceScopes.map { ceiling in ScopeSet(scopes.filter { ceiling.contains($0) }) } ?? scopes
    }

    /// The access token's lifetime for this client: its own when shorter than the server's.
    public func accessLifetime(_ policy: GrantPolicy) -> TimeInterval {
        min(accessTokenLifetime ?? policy.accessTokenLifetime, policy.accessTokenLifetime)
    }

    /// When a refresh token issued `now` in a family that began `familyStart` expires: the
    /// server's lifetime from now (each refresh extends it, as it always has), no later than this
    /// client's absolute lifetime from the start when it has one, nor its idle lifetime from now.
    public func refreshExpiry(familyStart: Date, now: Date, _ policy: GrantPolicy) -> Date {
        var expiry = now.addingTimeInterval(policy.refreshTokenLifetime)
        if let end = grantEnd(familyStart: familyStart) { expiry = min(expiry, end) }
        if let idle = refreshIdleLifetime { expiry = min(expiry, now.addingTimeInterval(idle)) }
        return expiry
    }

    /// When a grant of this client ends whatever is refreshed (its absolute lifetime), if it has one.
    public func grantEnd(familyStart: Date) -> Date? {
        refreshTokenLifetime.map { familyStart.addingTimeInterval($0) }
    }

    /// `device_networks` as stored: nil for none; a stored list that no longer parses is empty
    /// (refuses every device) rather than open.
    public static func deviceNetworks(stored: String?) -> AddressRanges? {
        guard let stored, !stored.isEmpty else { return nil }
        return (try? AddressRanges(parsing: stored)) ?? AddressRanges(ranges: [])
    }

    /// The registered redirect URIs as stored: space-separated (a valid one holds no space).
    public var storedRedirectURIs: String? {
        redirectURIs.isEmpty ? nil : redirectURIs.map(\.value).joined(separator: " ")
    }

    /// The registrations a stored column holds; one that no longer passes the rules is dropped.
    public static func redirectURIs(stored: String?) -> [RedirectURI] {
        (stored ?? "").split(separator: " ").compactMap { try? RedirectURI(registering: String($0)) }
    }

    /// RFC 6749 §4.1.1, §3.1.2.3: the redirect URI a request names, checked against the
    /// registrations; with none named, the only registration (more than one: nil, the request
    /// must say which).
    public func redirectURI(requested: String?) -> RedirectURI? {
        guard let requested else { return redirectURIs.count == 1 ? redirectURIs[0] : nil }
        return redirectURIs.first { $0.matches(requested) }
    }

    /// Registration rules: an id of visible ASCII (RFC 6749 Appendix A.1 `VSCHAR`, no spaces so
    /// it stays one token in logs), a display name free of control, bidi and invisible
    /// characters, sane lifetimes.
    public static func validate(id: String, name: String, codeLifetime: TimeInterval, interval: Int) throws(RegistrationError) {
        guard !id.isEmpty, id.count <= 128,
              id.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) && $0 != ":" })
        else { throw .badClientID }
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 80 else { throw .badName("1 to 80 characters") }
        guard TerminalText.isClean(name) else { throw .badName("control, bidirectional or invisible characters are not allowed") }
        guard (60...3600).contains(codeLifetime) else { throw .badLifetime }
        guard (1...60).contains(interval) else { throw .badInterval }
    }

    /// The authorization code grant needs a redirect URI, and a redirect URI needs the grant.
    public static func validate(grantTypes: [GrantType], redirectURIs: [RedirectURI]) throws(RegistrationError) {
        let code = grantTypes.contains(.authorizationCode)
        guard code == !redirectURIs.isEmpty else { throw code ? .missingRedirectURI : .redirectURIWithoutGrant }
        guard redirectURIs.count <= 10 else { throw .tooManyRedirectURIs }
    }
}

public enum RegistrationError: Error, Equatable, Sendable, CustomStringConvertible {
    case badClientID, badName(String), badLifetime, badInterval, badScopeName, badUserName
    case missingRedirectURI, redirectURIWithoutGrant, tooManyRedirectURIs

    public var description: String {
        switch self {
        case .badClientID: "client id must be 1–128 visible ASCII characters without ':'"
        case .badName(let why): "client name: \(why)"
        case .badLifetime: "code lifetime must be between 60s and 3600s"
        case .badInterval: "interval must be between 1s and 60s"
        case .badScopeName: "a scope name is visible ASCII without spaces, quotes or backslashes (RFC 6749 §3.3)"
        case .badUserName: "a user name is 1–64 characters of letters, digits, '.', '_', '-' or '@'"
        case .missingRedirectURI: "the authorization_code grant needs at least one --redirect-uri"
        case .redirectURIWithoutGrant: "--redirect-uri is for clients with --grant authorization_code"
        case .tooManyRedirectURIs: "at most 10 redirect URIs"
        }
    }
}

/// A person who approves devices.
public struct User: Sendable, Equatable {
    public var id: Int64
    public var name: String
    public var disabled: Bool

    public init(id: Int64, name: String, disabled: Bool) {
        self.id = id
        self.name = name
        self.disabled = disabled
    }

    public static func validate(name: String) throws(RegistrationError) {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@")
        guard (1...64).contains(name.count), name.allSatisfy(allowed.contains) else { throw .badUserName }
    }
}

/// A duration on the command line or in config: `600`, `600s`, `10m`, `1h`.
public enum DurationText {
    public static func parse(_ text: String) -> TimeInterval? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let value = Double(trimmed.dropLast(suffix.count)), value >= 0, value.isFinite else { return nil }
            return value * factor
        }
        guard let value = Double(trimmed), value >= 0, value.isFinite else { return nil }
        return value
    }
}
