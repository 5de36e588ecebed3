/// The consent API's contract (ARCHITECTURE.md §4.4), defined once: the bodies the server reads
/// and answers, which `HallpassClient` sends and decodes and the TUI works with. Swift names
/// here, snake_case on the wire. Client- and device-supplied strings are raw: they reach a
/// terminal only through `TerminalText.sanitize`.
public enum ConsentAPI {
    /// `POST /consent/login`.
    public struct LoginRequest: Codable, Equatable, Sendable {
        public var username: String
        public var password: String
        /// The front logging in (`ConsentFront`), recorded with the decisions it makes.
        public var front: String?
        public init(username: String, password: String, front: String? = nil) {
            self.username = username
            self.password = password
            self.front = front
        }
    }

    /// `POST /consent/lookup`, `/consent/approve` and `/consent/deny`: the user code, and on an
    /// approval the scope approved (a subset of those requested; all of them when absent).
    public struct CodeRequest: Codable, Equatable, Sendable {
        public var userCode: String
        public var scope: String?
        /// A code from the approver's authenticator, when the approval needs one (step-up).
        public var otp: String?
        public init(userCode: String, scope: String? = nil, otp: String? = nil) {
            self.userCode = userCode
            self.scope = scope
            self.otp = otp
        }
        enum CodingKeys: String, CodingKey { case userCode = "user_code", scope, otp }
    }

    /// `POST /consent/otp` (a code that completes a login or refreshes the session's second
    /// factor) and `POST /consent/totp/confirm` (the first code of a new authenticator).
    public struct OTPRequest: Codable, Equatable, Sendable {
        public var code: String
        public init(code: String) { self.code = code }
    }

    /// `POST /consent/totp/enroll`: the new secret, shown once, as base32 for typing and as an
    /// otpauth URI for a QR code. It counts once confirmed.
    public struct TOTPEnrolment: Codable, Equatable, Sendable {
        public var secret: String
        public var uri: String
        public init(secret: String, uri: String) {
            self.secret = secret
            self.uri = uri
        }
        enum CodingKeys: String, CodingKey { case secret, uri = "otpauth_uri" }
    }

    /// `POST /consent/totp/confirm`: the recovery codes, shown once.
    public struct RecoveryCodes: Codable, Equatable, Sendable {
        public var recoveryCodes: [String]
        public init(recoveryCodes: [String]) { self.recoveryCodes = recoveryCodes }
        enum CodingKeys: String, CodingKey { case recoveryCodes = "recovery_codes" }
    }

    /// A session: whose it is and for how long. The answer to `POST /consent/login` carries the
    /// session itself (a bearer token); `GET /consent/session`, asked with it, leaves it out.
    public struct SessionAnswer: Codable, Equatable, Sendable {
        public var session: String?
        public var user: String
        public var expiresIn: Int
        /// True while the session waits for a code from the user's authenticator
        /// (`POST /consent/otp`); nothing else works until then.
        public var otpRequired: Bool?
        /// RFC 8176 values: how the session was authenticated so far.
        public var amr: [String]?
        public init(session: String? = nil, user: String, expiresIn: Int, otpRequired: Bool? = nil, amr: [String]? = nil) {
            self.session = session
            self.user = user
            self.expiresIn = expiresIn
            self.otpRequired = otpRequired
            self.amr = amr
        }
        enum CodingKeys: String, CodingKey { case session, user, expiresIn = "expires_in", otpRequired = "otp_required", amr }
    }

    /// What the server recorded for an approval or a denial.
    public struct DecisionAnswer: Codable, Equatable, Sendable {
        /// `approved` or `denied`.
        public var status: GrantOutcome
        public var userCode: String
        public var clientID: String
        /// The scope granted (approvals only).
        public var scope: String?
        public init(status: GrantOutcome, userCode: String, clientID: String, scope: String?) {
            self.status = status
            self.userCode = userCode
            self.clientID = clientID
            self.scope = scope
        }
        enum CodingKeys: String, CodingKey { case status, userCode = "user_code", clientID = "client_id", scope }
    }

    /// `GET /consent/devices` (BCP 247 "detect and remediate"): the logged-in user's approved
    /// grants that still hold tokens, newest first. Client- and device-supplied text is raw.
    public struct DeviceList: Codable, Equatable, Sendable {
        public var devices: [Device]
        public init(devices: [Device]) { self.devices = devices }

        public struct Device: Codable, Equatable, Sendable {
            /// The grant (its token family), what `POST /consent/devices/revoke` takes.
            public var id: String
            public var clientID: String
            public var clientName: String
            public var deviceIP: String?
            public var userAgent: String?
            /// Unix seconds.
            public var approvedAt: Int
            public var lastRefresh: Int?
            public var scope: String
            /// The front that approved it (`ConsentFront`), when recorded.
            public var approvedVia: String?

            public init(id: String, clientID: String, clientName: String, deviceIP: String?, userAgent: String?, approvedAt: Int,
                        lastRefresh: Int?, scope: String, approvedVia: String? = nil) {
                (self.id, self.clientID, self.clientName, self.deviceIP, self.userAgent) = (id, clientID, clientName, deviceIP, userAgent)
                (self.approvedAt, self.lastRefresh, self.scope, self.approvedVia) = (approvedAt, lastRefresh, scope, approvedVia)
            }

            enum CodingKeys: String, CodingKey {
                case id, clientID = "client_id", clientName = "client_name", deviceIP = "device_ip", userAgent = "user_agent"
                case approvedAt = "approved_at", lastRefresh = "last_refresh", scope, approvedVia = "approved_via"
            }
        }
    }

    /// `GET /consent/inbox` (CIBA, ARCHITECTURE.md §4.9): the backchannel requests naming the
    /// session user that wait for a decision, oldest first. Each is decided like a code's request,
    /// by its `user_code`, which only addresses it (the person never types it).
    public struct Inbox: Codable, Equatable, Sendable {
        public var requests: [PendingRequest]
        public init(requests: [PendingRequest]) { self.requests = requests }
    }

    /// `POST /consent/devices/revoke`: one of the user's own grants.
    public struct RevokeRequest: Codable, Equatable, Sendable {
        public var id: String
        public init(id: String) { self.id = id }
    }

    /// The first frame on `/consent/events`: which pending request to follow, as whom.
    public struct EventSubscription: Codable, Equatable, Sendable {
        public var session: String
        public var userCode: String
        public init(session: String, userCode: String) {
            self.session = session
            self.userCode = userCode
        }
        enum CodingKeys: String, CodingKey { case session, userCode = "user_code" }
    }

    /// The first frame on `/consent/events` of a screen that watches its user's inbox (CIBA,
    /// ARCHITECTURE.md §4.9): `{"session":"…","watch":"inbox"}`. The socket then says
    /// `subscribed` (with the session's seconds left) and `inbox` whenever it may have changed,
    /// until the session ends; the screen reads `GET /consent/inbox` on each.
    public struct InboxSubscription: Codable, Equatable, Sendable {
        public var session: String
        public var watch: String
        public init(session: String) {
            self.session = session
            watch = Self.inbox
        }
        public static let inbox = "inbox"
    }
}

/// A pending request as the consent API describes it (`POST /consent/lookup`) and the screens
/// show it. `clientName` and `userAgent` come from the client and the device: untrusted.
public struct PendingRequest: Codable, Equatable, Sendable {
    public struct Scope: Codable, Equatable, Sendable {
        public var name: String
        /// The server's own description of the scope.
        public var description: String
        public init(name: String, description: String) {
            self.name = name
            self.description = description
        }
    }
    public var userCode: String
    public var clientID: String
    public var clientName: String
    public var scopes: [Scope]
    public var deviceIP: String
    public var userAgent: String
    public var requestedSecondsAgo: Int
    public var expiresIn: Int
    /// Set when the request is a browser signing in to the client (authorization code grant):
    /// `deviceIP` and `userAgent` are then the browser's.
    public var webSignIn: WebSignIn?
    /// Where the device (or browser) stands relative to the approver's address (BCP 247); nil
    /// when the client's policy is `off` or an address is unknown.
    public var proximity: Proximity?
    /// Set when approving what was requested needs a code from the approver's authenticator now
    /// (a step-up scope, or a client that requires one): the words to show.
    public var secondFactor: String?
    /// A backchannel request (CIBA): the device named this person; `bindingMessage` is what the
    /// device shows too (client-supplied, checked to hold nothing a screen could not show).
    public var backchannel: Bool?
    public var bindingMessage: String?

    /// Where a browser sign-in returns once decided.
    public struct WebSignIn: Codable, Equatable, Sendable {
        /// The redirect URI's host (and port), supplied by the client.
        public var redirectHost: String
        public init(redirectHost: String) { self.redirectHost = redirectHost }
        enum CodingKeys: String, CodingKey { case redirectHost = "redirect_host" }
    }

    public init(userCode: String, clientID: String, clientName: String, scopes: [Scope], deviceIP: String,
                userAgent: String, requestedSecondsAgo: Int, expiresIn: Int, webSignIn: WebSignIn? = nil, proximity: Proximity? = nil,
                secondFactor: String? = nil) {
        self.secondFactor = secondFactor
        self.webSignIn = webSignIn
        self.proximity = proximity
        self.userCode = userCode
        self.clientID = clientID
        self.clientName = clientName
        self.scopes = scopes
        self.deviceIP = deviceIP
        self.userAgent = userAgent
        self.requestedSecondsAgo = requestedSecondsAgo
        self.expiresIn = expiresIn
    }

    enum CodingKeys: String, CodingKey {
        case userCode = "user_code", clientID = "client_id", clientName = "client_name", scopes
        case deviceIP = "device_ip", userAgent = "user_agent"
        case requestedSecondsAgo = "requested_seconds_ago", expiresIn = "expires_in", webSignIn = "web_sign_in"
        case proximity, secondFactor = "second_factor", backchannel, bindingMessage = "binding_message"
    }
}

extension PendingRequest {
    /// The same request, marked as a backchannel one with its binding message.
    public func with(backchannel: Bool?, bindingMessage: String?) -> PendingRequest {
        var copy = self
        copy.backchannel = backchannel
        copy.bindingMessage = bindingMessage
        return copy
    }
}

extension GrantOutcome: Codable {}

/// The fronts a decision is made through, as recorded with it ("your devices", `grants list`):
/// the consent screen (`tui`), a kiosk, the SSH front, `approve --decision` (`cli`). A login
/// names its front; anything else is recorded as `terminal`.
public enum ConsentFront {
    public static let tui = "tui", kiosk = "kiosk", ssh = "ssh", cli = "cli", terminal = "terminal"
    public static let named: Set<String> = [tui, kiosk, ssh, cli]

    /// A front a client named at login, or `terminal` (never `ssh`: only the SSH front makes those).
    public static func claimed(_ text: String?) -> String {
        guard let text, named.contains(text), text != ssh else { return terminal }
        return text
    }
}
