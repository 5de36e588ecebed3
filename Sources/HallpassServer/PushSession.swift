import Foundation
import HallpassCore
import HallpassStore
import Logging
import NIOWebSocket

/// What one push socket means (ARCHITECTURE.md §4.3): the subscription frame, `subscribed`, then exactly
/// one of `approved`, `denied`, `expired`, then close. Devices subscribe with their device_code,
/// CIBA clients with their auth_req_id; approvers' screens with their consent session and the user code on the screen. The frames
/// themselves are `PushSocketHandler`'s; this holds the lookups behind them.
struct PushSession: Sendable {
    let hub: DevicePushHub
    let address: String
    let forDevice: Bool

    var clock: any WallClock { hub.clock }

    struct Refusal: Error {
        var code: WebSocketErrorCode
        var reason: String
    }

    /// What a socket follows: one grant to its outcome, or an approver's inbox (CIBA, §4.9)
    /// until the consent session ends.
    enum Subject: Sendable {
        case grant(DeviceGrant)
        case inbox(user: String, until: Date)
    }

    /// What a socket's subscription frame names: a device's grant by device_code (or auth_req_id),
    /// an approver's by consent session and user code, or an approver's inbox by session. Throws
    /// a `Refusal` or an `OAuthError` (both become a close frame with a reason).
    func subject(subscription text: String) async throws -> Subject {
        if forDevice { return .grant(try await deviceGrant(text)) }
        if Self.keys(of: text)?.contains("watch") == true { return try await inbox(text) }
        return .grant(try await approverGrant(text))
    }

    /// The keys of a JSON object frame, or nil when it is not one.
    private static func keys(of text: String) -> Set<String>? {
        (try? JSONDecoder().decode([String: JSONScalar].self, from: Data(text.utf8))).map { Set($0.keys) }
    }

    /// The close frame for a failed subscription: refusals and OAuth errors say what was wrong;
    /// anything else is an internal error and says nothing more.
    static func closing(for error: any Error) -> (code: WebSocketErrorCode, reason: String) {
        switch error {
        case let refusal as Refusal: (refusal.code, refusal.reason)
        case let error as OAuthError: (.policyViolation, error.errorDescription ?? error.code.description)
        case let failure as ConsentAPI.Failure: (.policyViolation, failure.message)
        default: (.unexpectedServerError, "server error")
        }
    }

    /// What the socket says when `outcome` is known.
    static func frame(_ outcome: GrantOutcome) -> String { text(of: .decided(outcome)) }

    func subscribedFrame(_ grant: DeviceGrant) -> String {
        Self.text(of: .subscribed(expiresIn: grant.secondsLeft(at: clock.now)))
    }

    /// An event as its text frame, written like every response body (an event, a string and an
    /// optional integer, always encodes).
    static func text(of event: PushAPI.Event) -> String {
        (try? JSONResponse.encoder.encode(event)).map { String(decoding: $0, as: UTF8.self) } ?? "{\"event\":\"\(event.event)\"}"
    }

    /// Seconds until `grant` expires, from now.
    func secondsUntilExpiry(_ grant: DeviceGrant) -> Double {
        max(0, grant.expiresAt.timeIntervalSince(clock.now))
    }

    /// A subscription frame: a JSON object with exactly `keys`, each a string of at most 512
    /// bytes, decoded as `T` (the contract's type).
    private func subscription<T: Decodable>(_ text: String, as type: T.Type, keys: Set<String>) throws -> T {
        let data = Data(text.utf8)
        let expected = Refusal(code: .unacceptableData, reason: "expected {\(keys.sorted().map { "\"\($0)\":\"…\"" }.joined(separator: ","))}")
        guard let object = try? JSONDecoder().decode([String: JSONScalar].self, from: data), Set(object.keys) == keys else { throw expected }
        for (key, value) in object {
            guard case .string(let string) = value, string.utf8.count <= 512 else {
                throw Refusal(code: .unacceptableData, reason: "\(key) must be a short string")
            }
        }
        guard let decoded = try? JSONDecoder().decode(T.self, from: data) else { throw expected }
        return decoded
    }

    /// Any JSON value, told apart only as far as the subscription rule needs: a string or not.
    private enum JSONScalar: Decodable {
        case string(String), other
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            self = (try? container.decode(String.self)).map(JSONScalar.string) ?? .other
        }
    }

    /// A device's grant by device_code, or a CIBA request's by auth_req_id; an unknown one (or
    /// one of the other kind) counts like a failed redemption.
    private func deviceGrant(_ text: String) async throws -> DeviceGrant {
        // The key the frame names says which kind it is; the rest is checked as for either.
        let backchannel = Self.keys(of: text)?.contains("auth_req_id") == true
        let secret = backchannel
            ? try subscription(text, as: PushAPI.BackchannelSubscription.self, keys: ["auth_req_id"]).authRequestID
            : try subscription(text, as: PushAPI.DeviceSubscription.self, keys: ["device_code"]).deviceCode
        let name = backchannel ? "auth_req_id" : "device_code"
        if let blocked = hub.unknownCodes.retryAfter(address: address) {
            throw Refusal(code: .policyViolation, reason: "too many unknown \(name)s; try again in \(blocked) seconds")
        }
        guard let grant = try await hub.grants.grant(deviceCodeHash: SecretToken.hash(secret)), grant.backchannel == backchannel else {
            hub.unknownCodes.recordFailure(address: address)
            throw Refusal(code: .policyViolation, reason: "unknown \(name)")
        }
        return grant
    }

    /// An approver's grant: a live consent session and the pending user code on its screen,
    /// charged to the same budgets as a lookup.
    private func approverGrant(_ text: String) async throws -> DeviceGrant {
        let fields = try subscription(text, as: ConsentAPI.EventSubscription.self, keys: ["session", "user_code"])
        let desk = hub.desk
        let session = try await desk.session(bearer: fields.session)
        return try await desk.pendingGrant(code: fields.userCode, session: session)
    }

    /// An approver's inbox: a live consent session (no lookup budget: it names no code).
    private func inbox(_ text: String) async throws -> Subject {
        let fields = try subscription(text, as: ConsentAPI.InboxSubscription.self, keys: ["session", "watch"])
        guard fields.watch == ConsentAPI.InboxSubscription.inbox else {
            throw Refusal(code: .unacceptableData, reason: "watch must be \"inbox\"")
        }
        let session = try await hub.desk.session(bearer: fields.session)
        return .inbox(user: session.user.name, until: session.record.expiresAt)
    }

    /// The grant's outcome as the store has it now; nil while it is still pending.
    func currentOutcome(_ grant: DeviceGrant) async throws -> GrantOutcome? {
        let current = try await hub.grants.grant(deviceCodeHash: grant.deviceCodeHash) ?? grant
        return current.outcome(at: clock.now)
    }
}
