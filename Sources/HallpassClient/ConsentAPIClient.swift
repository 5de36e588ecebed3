import Foundation
import HallpassCore

/// The terminal side of the consent API (ARCHITECTURE.md §4.4), over HTTP. `hallpass approve` uses it,
/// and so will the TUI through its `ConsentService` protocol.
public struct ConsentAPIClient: Sendable {
    public let server: URL
    let transport: any HTTPTransport

    public init(server: URL, transport: any HTTPTransport = HTTPClientTransport()) {
        self.server = server
        self.transport = transport
    }

    /// The server answered, but not with a consent API body: a gateway's 502, a page, nothing.
    /// A consent API error is thrown as the contract's `ConsentAPI.Failure`, told apart by its code.
    public struct UnexpectedAnswer: Error, Equatable, Sendable, CustomStringConvertible {
        public var status: Int
        /// What was wrong with it, when the status alone does not say.
        public var detail: String?
        public var description: String { "the server answered HTTP \(status)" + (detail.map { " \($0)" } ?? "") }
    }

    /// A new session: its bearer token and whose it is.
    /// `front`: which front logs in (`ConsentFront`), recorded with the decisions it makes.
    /// `otpRequired`: the session waits for a code from the user's authenticator (`verifyCode`).
    public func login(user: String, password: String, front: String? = nil) async throws
        -> (session: String, user: String, otpRequired: Bool)
    {
        let answer: ConsentAPI.SessionAnswer = try await post("consent/login", ConsentAPI.LoginRequest(username: user, password: password, front: front),
                                                              bearer: nil)
        guard let session = answer.session else { throw UnexpectedAnswer(status: 200, detail: "to a login without a session") }
        return (session, answer.user, answer.otpRequired ?? false)
    }

    /// The session as the server has it (`GET /consent/session`): whose, for how long, and
    /// whether it still waits for a code.
    public func sessionStatus(session: String) async throws -> ConsentAPI.SessionAnswer {
        try await get("consent/session", bearer: session)
    }

    /// A code from the user's authenticator, or a recovery code (`POST /consent/otp`): finishes
    /// a login that waits for one, or freshens the session's second factor.
    public func verifyCode(_ code: String, session: String) async throws -> ConsentAPI.SessionAnswer {
        try await post("consent/otp", ConsentAPI.OTPRequest(code: code), bearer: session)
    }

    /// A new authenticator secret for the logged-in user (`POST /consent/totp/enroll`).
    public func enrollTOTP(session: String) async throws -> ConsentAPI.TOTPEnrolment {
        try await post("consent/totp/enroll", [String: String](), bearer: session)
    }

    /// Confirms it with its first code; the recovery codes, once (`POST /consent/totp/confirm`).
    public func confirmTOTP(code: String, session: String) async throws -> ConsentAPI.RecoveryCodes {
        try await post("consent/totp/confirm", ConsentAPI.OTPRequest(code: code), bearer: session)
    }

    public func lookup(code: String, session: String) async throws -> PendingRequest {
        try await post("consent/lookup", ConsentAPI.CodeRequest(userCode: code), bearer: session)
    }

    /// `otp`: a code from the approver's authenticator, for an approval that needs one (step-up).
    public func approve(code: String, scope: String?, otp: String? = nil, session: String) async throws -> ConsentAPI.DecisionAnswer {
        try await post("consent/approve", ConsentAPI.CodeRequest(userCode: code, scope: scope, otp: otp), bearer: session)
    }

    public func deny(code: String, session: String) async throws -> ConsentAPI.DecisionAnswer {
        try await post("consent/deny", ConsentAPI.CodeRequest(userCode: code), bearer: session)
    }

    /// "Your devices": the user's grants that still hold tokens (`GET /consent/devices`).
    public func devices(session: String) async throws -> ConsentAPI.DeviceList {
        try await get("consent/devices", bearer: session)
    }

    /// The backchannel requests naming the user (`GET /consent/inbox`, CIBA), oldest first.
    public func inbox(session: String) async throws -> ConsentAPI.Inbox {
        try await get("consent/inbox", bearer: session)
    }

    /// Revokes one of them (`POST /consent/devices/revoke`).
    public func revokeDevice(id: String, session: String) async throws {
        let _: [String: String] = try await post("consent/devices/revoke", ConsentAPI.RevokeRequest(id: id), bearer: session)
    }

    public func logout(session: String) async {
        _ = try? await transport.postJSON(server.appendingPathComponent("consent/logout"), body: Data("{}".utf8), bearer: session)
    }

    /// Follows a pending request over the consent event socket (`/consent/events`) until it is
    /// decided or expires: "approved", "denied" or "expired"; nil if the socket ended first.
    public func watch(code: String, session: String, channel: any PushChannel = WebSocketPushChannel()) async -> GrantOutcome? {
        guard let uri = eventsURI else { return nil }
        return try? await channel.outcome(pushURI: uri, subscription: ConsentAPI.EventSubscription(session: session, userCode: code))
    }

    /// Follows the session user's inbox on the consent event socket (CIBA, ARCHITECTURE.md
    /// §4.9): `onSubscribed` once the server accepted the session, `onChange` at each hint, until
    /// the socket ends (the session expired, the server went away, or it refused).
    public func watchInbox(session: String, onSubscribed: @escaping @Sendable () -> Void,
                           onChange: @escaping @Sendable () -> Void) async {
        guard let uri = eventsURI else { return }
        try? await WebSocketPushChannel().follow(pushURI: uri, subscription: ConsentAPI.InboxSubscription(session: session)) { event in
            if event.event == "subscribed" { onSubscribed() } else if event == .inboxChanged { onChange() }
        }
    }

    /// `/consent/events` as a ws:// or wss:// URL, like the server's scheme.
    private var eventsURI: String? {
        var components = URLComponents(url: server.appendingPathComponent("consent/events"), resolvingAgainstBaseURL: false)
        components?.scheme = server.scheme == "https" ? "wss" : "ws"
        return components?.string
    }

    private func get<T: Decodable>(_ path: String, bearer: String) async throws -> T {
        let (status, response) = try await transport.getJSON(server.appendingPathComponent(path), bearer: bearer)
        if status == 200, let value = try? JSONDecoder().decode(T.self, from: response) { return value }
        guard status != 200, let error = try? JSONDecoder().decode(ErrorBody.self, from: response) else { throw UnexpectedAnswer(status: status) }
        throw ConsentAPI.Failure(error)
    }

    private func post<T: Decodable>(_ path: String, _ body: some Encodable, bearer: String?) async throws -> T {
        let data = try JSONEncoder().encode(body)
        let (status, response) = try await transport.postJSON(server.appendingPathComponent(path), body: data, bearer: bearer)
        if status == 200, let value = try? JSONDecoder().decode(T.self, from: response) { return value }
        guard status != 200, let error = try? JSONDecoder().decode(ErrorBody.self, from: response) else {
            throw UnexpectedAnswer(status: status)
        }
        throw ConsentAPI.Failure(error)
    }
}
