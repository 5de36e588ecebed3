import HallpassCore

/// The consent API as the TUI sees it (ARCHITECTURE.md §4.4). The CLI implements it over HTTP; tests
/// implement it in memory. The TUI never sees HTTP, ncurses or NIO.
public protocol ConsentService: Sendable {
    func login(user: String, password: String) async throws(ConsentFailure) -> ConsentLogin
    func lookup(code: String, session: String) async throws(ConsentFailure) -> PendingRequest
    /// Approves with exactly `scopes`, a subset of those requested; `otp` when the approval
    /// needs a code from the approver's authenticator (ARCHITECTURE.md §4.8).
    func approve(code: String, scopes: [String], otp: String?, session: String) async throws(ConsentFailure) -> ConsentDecision
    func deny(code: String, session: String) async throws(ConsentFailure) -> ConsentDecision
    func logout(session: String) async
    /// Waits until the pending request behind `code` is decided elsewhere or expires (ARCHITECTURE.md
    /// §3c, the approver's side of push). Returns nil if the watch ended without news.
    func watch(code: String, session: String) async -> GrantOutcome?
    /// "Your devices": the session user's grants that still hold tokens, newest first.
    func devices(session: String) async throws(ConsentFailure) -> [ConsentAPI.DeviceList.Device]
    /// Revokes one of them (its refresh and access tokens, at once).
    func revokeDevice(id: String, session: String) async throws(ConsentFailure)
    /// A code from the user's authenticator (or a recovery code) for the session: finishes a
    /// login that waits for one (ARCHITECTURE.md §4.8).
    func verifyCode(_ code: String, session: String) async throws(ConsentFailure)
    /// "Add an authenticator": a new secret for the logged-in user, and its confirmation with
    /// the first code, which answers the recovery codes.
    func enrollAuthenticator(session: String) async throws(ConsentFailure) -> AuthenticatorEnrolment
    func confirmAuthenticator(code: String, session: String) async throws(ConsentFailure) -> [String]
    /// The backchannel requests naming the user (CIBA inbox, ARCHITECTURE.md §4.9), oldest first.
    func inbox(session: String) async throws(ConsentFailure) -> [PendingRequest]
    /// Follows the user's inbox by push until the socket ends: `onEvent(.live)` once it is
    /// subscribed, `.changed` at each hint. False when this service cannot push at all (the
    /// screen then only reads the inbox each second), true otherwise, even after a failure.
    func watchInbox(session: String, onEvent: @escaping @Sendable (InboxWatchEvent) -> Void) async -> Bool
}

/// What an inbox watch reports.
public enum InboxWatchEvent: Equatable, Sendable {
    case live
    case changed
}

extension ConsentService {
    public func devices(session: String) async throws(ConsentFailure) -> [ConsentAPI.DeviceList.Device] {
        throw .refused("this consent service cannot list devices")
    }

    public func revokeDevice(id: String, session: String) async throws(ConsentFailure) {
        throw .refused("this consent service cannot revoke devices")
    }

    public func verifyCode(_ code: String, session: String) async throws(ConsentFailure) {
        throw .refused("this consent service cannot check codes")
    }

    public func enrollAuthenticator(session: String) async throws(ConsentFailure) -> AuthenticatorEnrolment {
        throw .refused("this consent service cannot add authenticators")
    }

    public func confirmAuthenticator(code: String, session: String) async throws(ConsentFailure) -> [String] {
        throw .refused("this consent service cannot add authenticators")
    }

    public func inbox(session: String) async throws(ConsentFailure) -> [PendingRequest] {
        throw .refused("this consent service has no inbox")
    }

    public func watchInbox(session: String, onEvent: @escaping @Sendable (InboxWatchEvent) -> Void) async -> Bool { false }
}

/// A new authenticator as the enrolment screen shows it: the base32 secret, the otpauth URI,
/// and its QR code as rows of modules (quiet zone included; true is dark), made by the caller.
public struct AuthenticatorEnrolment: Equatable, Sendable {
    public var secret: String
    public var uri: String
    public var qr: [[Bool]]
    public init(secret: String, uri: String, qr: [[Bool]]) {
        self.secret = secret
        self.uri = uri
        self.qr = qr
    }

    /// `ABCD EFGH …`: a base32 secret in groups of four, for typing (the screen and `users totp enroll`).
    public static func grouped(_ secret: String) -> String {
        stride(from: 0, to: secret.count, by: 4).map { String(secret.dropFirst($0).prefix(4)) }.joined(separator: " ")
    }
}

/// A consent session: an opaque token and whose it is.
public struct ConsentLogin: Equatable, Sendable {
    public var session: String
    public var user: String
    /// The session waits for a code from the user's authenticator before anything else works.
    public var otpRequired: Bool
    public init(session: String, user: String, otpRequired: Bool = false) {
        self.session = session
        self.user = user
        self.otpRequired = otpRequired
    }
}

// `PendingRequest`, what a lookup answers, is the consent contract's (HallpassCore). Its
// `clientName` and `userAgent` reach the screen only through `CellBuffer.field`.

/// What the server recorded.
public struct ConsentDecision: Equatable, Sendable {
    public var approved: Bool
    public var scopes: [String]
    public init(approved: Bool, scopes: [String]) {
        self.approved = approved
        self.scopes = scopes
    }
}

/// Why a consent call failed, in the terms the screens need.
public enum ConsentFailure: Error, Equatable, Sendable {
    var isCodeRequired: Bool { if case .codeRequired = self { true } else { false } }

    /// The server could not be reached (the banner offers a retry).
    case unreachable
    /// The session is missing or expired: back to login.
    case loginRequired
    case wrongCredentials
    /// Too many failed logins; seconds until the next try.
    case loginLocked(retryAfter: Int)
    /// Wrong or dead code, with the guesses left when the server said.
    case invalidCode(guessesLeft: Int?)
    /// Too many wrong codes; seconds until the next try.
    case tooManyCodes(retryAfter: Int)
    /// Decided elsewhere (or expired just now).
    case alreadyDecided
    /// A code from the user's authenticator is needed first (a login's second factor, or a
    /// step-up for the approval), with the server's words.
    case codeRequired(String)
    /// A wrong, reused or malformed authenticator code, with the server's words.
    case wrongCode(String)
    /// Anything else the server refused, with its (sanitized on display) message.
    case refused(String)
}
