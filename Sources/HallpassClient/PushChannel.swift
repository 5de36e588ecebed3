import Foundation
import HallpassCore
import Logging
import Synchronization
import WSClient

/// Waits on a server's push channel for one grant.
public protocol PushChannel: Sendable {
    /// Connects to `pushURI`, sends `subscription` as the first frame (a
    /// `PushAPI.DeviceSubscription` or a `ConsentAPI.EventSubscription`), and returns the
    /// outcome, or nil when the socket ended without one (the caller keeps polling and may reconnect).
    func outcome(pushURI: String, subscription: some Encodable & Sendable) async throws -> GrantOutcome?
}

extension PushChannel {
    /// A device's subscription: `{"device_code":"…"}`.
    public func outcome(pushURI: String, deviceCode: String) async throws -> GrantOutcome? {
        try await outcome(pushURI: pushURI, subscription: PushAPI.DeviceSubscription(deviceCode: deviceCode))
    }
}

/// The WebSocket push channel (swift-websocket's client on NIO).
public struct WebSocketPushChannel: PushChannel {
    public init() {}

    public func outcome(pushURI: String, subscription frame: some Encodable & Sendable) async throws -> GrantOutcome? {
        let result = Mutex<GrantOutcome?>(nil)
        try await converse(pushURI: pushURI, subscription: frame) { event in
            guard let outcome = event.outcome else { return true }
            result.withLock { $0 = outcome }
            return false
        }
        return result.withLock { $0 }
    }

    /// Follows a socket that tells many events (an inbox watch, ARCHITECTURE.md §4.9): sends
    /// `frame`, then calls `onEvent` for each event until the server closes the socket.
    public func follow(pushURI: String, subscription frame: some Encodable & Sendable,
                       onEvent: @escaping @Sendable (PushAPI.Event) -> Void) async throws {
        try await converse(pushURI: pushURI, subscription: frame) { event in
            onEvent(event)
            return true
        }
    }

    /// Connects, sends the subscription, and hands each event to `onEvent` until it returns
    /// false or the socket ends. Not a ws:// or wss:// URI: nothing happens.
    private func converse(pushURI: String, subscription frame: some Encodable & Sendable,
                          onEvent: @escaping @Sendable (PushAPI.Event) -> Bool) async throws {
        guard pushURI.hasPrefix("ws://") || pushURI.hasPrefix("wss://") else { return }
        let subscription = try JSONEncoder().encode(frame)
        var logger = Logger(label: "hallpass.push")
        logger.logLevel = .critical
        try await WebSocketClient.connect(url: pushURI, configuration: .init(maxFrameSize: 4096), logger: logger) { inbound, outbound, _ in
            try await outbound.write(.text(String(decoding: subscription, as: UTF8.self)))
            for try await message in inbound.messages(maxSize: 4096) {
                guard case .text(let text) = message,
                      let event = try? JSONDecoder().decode(PushAPI.Event.self, from: Data(text.utf8)) else { continue }
                if !onEvent(event) { return }
            }
        }
    }
}
