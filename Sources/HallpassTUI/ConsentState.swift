import Foundation
import HallpassCore

/// Everything the consent front shows, as a value. `update` changes it; views draw it.
public struct ConsentState: Equatable, Sendable {
    public enum Screen: Equatable, Sendable {
        case login, codeEntry, consent, denyConfirm, result
        /// "Your devices" (BCP 247 detect and remediate): the user's live grants, to revoke.
        case devices
        /// A code from the authenticator: a login's second factor, or a step-up approval's.
        case secondFactor
        /// "Add an authenticator": QR code, secret, first code, then the recovery codes.
        case authenticator
        /// The requests naming this person (CIBA), to open one.
        case inbox
    }

    /// What the person is waiting for, shown instead of the key hints.
    public enum Busy: Equatable, Sendable {
        case loggingIn, lookingUp, deciding, loadingDevices, revoking, checkingCode, enrolling
    }

    /// The code prompt (ARCHITECTURE.md §4.8): what it is for, what is typed, and why it was
    /// asked and what went wrong, in the server's words (raw; sanitized on display).
    public struct CodePrompt: Equatable, Sendable {
        public enum Purpose: Equatable, Sendable { case login, approval }
        public var purpose: Purpose
        public var typed = ""
        public var reason: String?
        public var notice: String?
        public static let maxLength = 24
    }

    /// "Add an authenticator": the enrolment once the server made it, the first code as typed,
    /// the recovery codes once confirmed.
    /// The inbox (CIBA, ARCHITECTURE.md §4.9): followed by push while logged in (read at each
    /// hint, every 30 s for safety, every second without the socket); a new request shows as a
    /// banner and a count, never taking the focus.
    public struct Inbox: Equatable, Sendable {
        public var requests: [PendingRequest] = []
        public var focus = 0
        public var checkedAt: Date?
        public var refreshing = false
        /// `approve --inbox`: open the inbox once it first has something.
        public var openWhenListed = false
        /// The push watch was started (`.watchInbox`), and whether its socket is live now.
        public var watching = false
        public var live = false
        /// News arrived while a read was under way: read again as soon as it ends.
        public var stale = false
        /// Reads without push, and the safety read while the socket is live.
        public static let refreshInterval: TimeInterval = 1
        public static let liveRefreshInterval: TimeInterval = 30
    }

    public struct AuthenticatorSetup: Equatable, Sendable {
        public var enrolment: AuthenticatorEnrolment?
        public var typed = ""
        public var recoveryCodes: [String]?
        public var notice: String?
    }

    /// The "your devices" list: the grants, the focused one, and the revoke confirmation (which
    /// opens on Keep, as Deny does on the consent screen).
    public struct DeviceList: Equatable, Sendable {
        public var devices: [ConsentAPI.DeviceList.Device] = []
        public var focus = 0
        public var confirming = false
        public var confirmFocusRevoke = false
        /// The client of the grant just revoked, said once above the list.
        public var revoked: String?
    }

    public struct LoginForm: Equatable, Sendable {
        public enum Field: Equatable, Sendable { case name, password }
        public enum Notice: Equatable, Sendable { case wrong, empty, locked(until: Date), sessionExpired, idle }
        public var name = ""
        public var password = ""
        public var focus = Field.name
        public var notice: Notice?
    }

    public struct CodeEntry: Equatable, Sendable {
        /// The character is raw (it may have been pasted); the view sanitizes it.
        public enum Notice: Equatable, Sendable { case badCharacter(Character), incomplete }
        /// Up to 8 code letters, upper case, without the dash.
        public var letters: [Character] = []
        public var notice: Notice?

        /// `BCDF-GHJK` as far as typed: the dash appears once the fifth letter is there.
        public var display: String {
            let text = String(letters)
            return letters.count > 4 ? String(text.prefix(4)) + "-" + String(text.dropFirst(4)) : text
        }
    }

    /// The request on the consent screen and the person's choices on it.
    public struct Review: Equatable, Sendable {
        public enum Focus: Equatable, Sendable { case scope(Int), deny, approve }
        public var request: PendingRequest
        public var selected: [Bool]
        /// RFC 8628 §5.4 and the cross-device BCP: the safe choice has the focus first.
        public var focus = Focus.deny
        public var receivedAt: Date
        public var expiresAt: Date
        /// Set when Approve was chosen with every permission switched off.
        public var needsScope = false
        /// On the deny confirmation: true while "Yes, deny" has the focus (it starts there).
        public var confirmFocusYes = true

        public var chosenScopes: [String] {
            zip(request.scopes, selected).filter(\.1).map(\.0.name)
        }
    }

    public enum Outcome: Equatable, Sendable {
        case approved(scopes: [String]), denied, expired, alreadyUsed
        /// Decided by someone else (another screen, a script) while this one showed it.
        case decidedElsewhere(approved: Bool)
        case invalid(guessesLeft: Int?), tooMany(until: Date), refused(String)
    }

    public var screen = Screen.login
    public var now: Date
    public var session: ConsentLogin?
    public var login = LoginForm()
    public var code = CodeEntry()
    public var review: Review?
    public var deviceList = DeviceList()
    public var codePrompt: CodePrompt?
    public var authenticator = AuthenticatorSetup()
    public var inbox = Inbox()
    /// Whether the service has an inbox to read (the HTTP service does; test doubles may not).
    public var inboxEnabled = false
    public var outcome: Outcome?
    public var outcomeAt: Date?
    public var busy: Busy?
    /// Set when the server could not be reached; `r` sends `retry` again.
    public var unreachable = false
    public var retry: ConsentEffect?
    public var showHelp = false
    /// The server as the banner names it.
    public var serverName: String
    public var kiosk: Bool
    /// Kiosk: seconds without a key before the screen is wiped and the person logged out.
    public var idleTimeout: TimeInterval
    public var lastInput: Date
    /// How long a result stays before code entry (or, in a kiosk, login) comes back.
    public var resultDisplay: TimeInterval = 8
    public var finished = false

    public init(now: Date, serverName: String, kiosk: Bool = false, idleTimeout: TimeInterval = 60,
                user: String? = nil, code: String? = nil, session: ConsentLogin? = nil) {
        self.now = now
        self.serverName = serverName
        self.kiosk = kiosk
        self.idleTimeout = idleTimeout
        lastInput = now
        if let user { login.name = user; login.focus = .password }
        if let code { self.code.letters = CodeLetters.accept(code).letters }
        // Already authenticated elsewhere (the SSH front): straight to code entry, or to the
        // authenticator's code when the session still waits for one.
        if let session {
            self.session = session
            screen = .codeEntry
            if session.otpRequired {
                screen = .secondFactor
                codePrompt = CodePrompt(purpose: .login)
            }
        }
    }
}

/// What `update` asks the runtime to do; results come back as messages.
public enum ConsentEffect: Equatable, Sendable {
    case login(user: String, password: String)
    case lookup(code: String, session: String)
    case approve(code: String, scopes: [String], otp: String?, session: String)
    /// A code from the authenticator for the session (a login's second factor).
    case verifyCode(code: String, session: String)
    case enrollAuthenticator(session: String)
    case confirmAuthenticator(code: String, session: String)
    /// Read the inbox (in the background: nothing shows as busy).
    case listInbox(session: String)
    /// Follow the inbox by push while the session lasts: `.inboxWatching` when the socket is
    /// live or drops, `.inboxChanged` at news.
    case watchInbox(session: String)
    case unwatchInbox
    case deny(code: String, session: String)
    case logout(session: String)
    case listDevices(session: String)
    case revokeDevice(id: String, session: String)
    /// Follow the request on screen; its news comes back as `.requestUpdated`.
    case watch(code: String, session: String)
    /// Stop following (the screen left the request).
    case unwatch
    /// Kiosk: clear the screen and the terminal's scrollback.
    case wipeScreen
    case quit
}

/// What happens to the consent front: keys, time, and the answers to effects.
public enum ConsentMessage: Equatable, Sendable {
    case key(Key)
    case tick(Date)
    case loggedIn(ConsentLogin)
    case loginFailed(ConsentFailure)
    case lookedUp(PendingRequest)
    case lookupFailed(ConsentFailure)
    case decided(ConsentDecision)
    case decisionFailed(ConsentFailure)
    case devicesListed([ConsentAPI.DeviceList.Device])
    case devicesFailed(ConsentFailure)
    case deviceRevoked(id: String)
    case codeVerified
    case codeFailed(ConsentFailure)
    case enrolmentStarted(AuthenticatorEnrolment)
    case enrolmentConfirmed(recoveryCodes: [String])
    case enrolmentFailed(ConsentFailure)
    case inboxListed([PendingRequest])
    case inboxFailed(ConsentFailure)
    case inboxWatching(Bool)
    case inboxChanged
    /// Push news about the request being watched (`code` says which).
    case requestUpdated(code: String, GrantOutcome)
}

/// Code entry rules: which characters are code letters (ARCHITECTURE.md §5), which are separators.
public enum CodeLetters {
    /// Upper-cased code letters of `text`, dropping spaces and dashes; the first character
    /// that can never be in a code, if any.
    public static func accept(_ text: String) -> (letters: [Character], rejected: Character?) {
        var letters: [Character] = []
        for character in text {
            if character == " " || character == "-" || character == "\t" { continue }
            let upperCased = character.uppercased()
            guard upperCased.count == 1, let upper = upperCased.first, UserCode.alphabet.contains(upper) else {
                return (letters, character)
            }
            letters.append(upper)
        }
        return (letters, nil)
    }
}
