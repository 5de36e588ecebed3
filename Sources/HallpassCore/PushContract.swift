/// The push channel's frames (ARCHITECTURE.md §4.3), defined once for the server and the clients:
/// the subscription a socket opens with (a device's `DeviceSubscription`, a CIBA client's
/// `BackchannelSubscription`, an approver's `ConsentAPI.EventSubscription`) and the events the
/// server sends back.
public enum PushAPI {
    /// A device's subscription: `{"device_code":"…"}`.
    public struct DeviceSubscription: Codable, Equatable, Sendable {
        public var deviceCode: String
        public init(deviceCode: String) { self.deviceCode = deviceCode }
        enum CodingKeys: String, CodingKey { case deviceCode = "device_code" }
    }

    /// A CIBA client's subscription (ARCHITECTURE.md §4.9): `{"auth_req_id":"…"}`, on the same
    /// path as a device's. A hint beside the delivery mode the client registered, never a token.
    public struct BackchannelSubscription: Codable, Equatable, Sendable {
        public var authRequestID: String
        public init(authRequestID: String) { self.authRequestID = authRequestID }
        enum CodingKeys: String, CodingKey { case authRequestID = "auth_req_id" }
    }

    /// An event: `subscribed` (with the seconds the grant has left), then exactly one of
    /// `approved`, `denied` or `expired` (a `GrantOutcome`); on an inbox socket, `subscribed`
    /// (the session's seconds left) and then `inbox` whenever it may have changed.
    public struct Event: Codable, Equatable, Sendable {
        public var event: String
        public var expiresIn: Int?
        public init(event: String, expiresIn: Int? = nil) {
            self.event = event
            self.expiresIn = expiresIn
        }
        public static func subscribed(expiresIn: Int) -> Event { Event(event: "subscribed", expiresIn: expiresIn) }
        public static func decided(_ outcome: GrantOutcome) -> Event { Event(event: outcome.rawValue) }
        /// An inbox socket's news: the watched inbox may have changed (ARCHITECTURE.md §4.9).
        public static let inboxChanged = Event(event: "inbox")
        /// The outcome this event tells, if it tells one.
        public var outcome: GrantOutcome? { GrantOutcome(rawValue: event) }
        enum CodingKeys: String, CodingKey { case event, expiresIn = "expires_in" }
    }
}
