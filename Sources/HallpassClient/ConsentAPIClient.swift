import Foundation

/// The terminal side of the consent API (ARCHITECTURE.md §4.4), over HTTP. `hallpass approve` uses it,
/// and so will the TUI through its `ConsentService` protocol.
public struct ConsentAPIClient: Sendable {
    public let server: URL
    let transport: any HTTPTransport

    public init(server: URL, transport: any HTTPTransport = URLSessionTransport()) {
        self.server = server
        self.transport = transport
    }

    public struct Session: Sendable, Equatable, Decodable {
        public var session: String
        public var user: String
        public var expires_in: Int
    }

    /// A pending grant as the server describes it. Client- and device-supplied fields are raw:
    /// pass them through `TerminalText.sanitize` before they reach a terminal.
    public struct GrantDetails: Sendable, Equatable, Decodable {
        public struct Scope: Sendable, Equatable, Decodable {
            public var name: String
            public var description: String
        }
        public var user_code: String
        public var client_id: String
        public var client_name: String
        public var scopes: [Scope]
        public var device_ip: String
        public var user_agent: String
        public var requested_seconds_ago: Int
        public var expires_in: Int
    }

    public struct Decision: Sendable, Equatable, Decodable {
        public var status: String
        public var user_code: String
        public var client_id: String
        public var scope: String?
    }

    /// A consent API error: the OAuth-style code, a message fit to show, and what is left.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var status: Int
        public var code: String
        public var message: String
        public var guessesLeft: Int?
        /// Seconds until a locked-out login or code entry may try again.
        public var retryAfter: Int?
        public var description: String { message }
    }

    public func login(user: String, password: String) async throws -> Session {
        try await post("consent/login", ["username": user, "password": password], bearer: nil)
    }

    public func lookup(code: String, session: String) async throws -> GrantDetails {
        try await post("consent/lookup", ["user_code": code], bearer: session)
    }

    public func approve(code: String, scope: String?, session: String) async throws -> Decision {
        var body = ["user_code": code]
        if let scope { body["scope"] = scope }
        return try await post("consent/approve", body, bearer: session)
    }

    public func deny(code: String, session: String) async throws -> Decision {
        try await post("consent/deny", ["user_code": code], bearer: session)
    }

    public func logout(session: String) async {
        _ = try? await transport.postJSON(server.appendingPathComponent("consent/logout"), body: Data("{}".utf8), bearer: session)
    }

    /// Follows a pending request over the consent event socket (`/consent/events`) until it is
    /// decided or expires: "approved", "denied" or "expired"; nil if the socket ended first.
    public func watch(code: String, session: String, channel: any PushChannel = WebSocketPushChannel()) async -> String? {
        var components = URLComponents(url: server.appendingPathComponent("consent/events"), resolvingAgainstBaseURL: false)
        components?.scheme = server.scheme == "https" ? "wss" : "ws"
        guard let uri = components?.string else { return nil }
        return try? await channel.outcome(pushURI: uri, subscription: ["session": session, "user_code": code])?.rawValue
    }

    private func post<T: Decodable>(_ path: String, _ body: [String: String], bearer: String?) async throws -> T {
        let data = try JSONEncoder().encode(body)
        let (status, response) = try await transport.postJSON(server.appendingPathComponent(path), body: data, bearer: bearer)
        if status == 200, let value = try? JSONDecoder().decode(T.self, from: response) { return value }
        let object = (try? JSONSerialization.jsonObject(with: response)) as? [String: Any]
        throw Failure(status: status, code: object?["error"] as? String ?? "http_\(status)",
                      message: object?["error_description"] as? String ?? "the server answered HTTP \(status)",
                      guessesLeft: object?["guesses_left"] as? Int, retryAfter: object?["retry_after"] as? Int)
    }
}
