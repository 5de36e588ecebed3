import Foundation
import HallpassCore
import Logging
import Synchronization
import WSClient

/// Waits on a server's push channel for one grant.
public protocol PushChannel: Sendable {
    /// Connects to `pushURI`, sends `subscription` as the first frame, and returns the outcome,
    /// or nil when the socket ended without one (the caller keeps polling and may reconnect).
    func outcome(pushURI: String, subscription: [String: String]) async throws -> GrantOutcome?
}

extension PushChannel {
    /// A device's subscription: `{"device_code":"…"}`.
    public func outcome(pushURI: String, deviceCode: String) async throws -> GrantOutcome? {
        try await outcome(pushURI: pushURI, subscription: ["device_code": deviceCode])
    }
}

/// The WebSocket push channel (swift-websocket's client on NIO).
public struct WebSocketPushChannel: PushChannel {
    public init() {}

    public func outcome(pushURI: String, subscription fields: [String: String]) async throws -> GrantOutcome? {
        guard pushURI.hasPrefix("ws://") || pushURI.hasPrefix("wss://") else { return nil }
        let subscription = try JSONSerialization.data(withJSONObject: fields)
        let result = Mutex<GrantOutcome?>(nil)
        var logger = Logger(label: "hallpass.push")
        logger.logLevel = .critical
        try await WebSocketClient.connect(url: pushURI, configuration: .init(maxFrameSize: 4096), logger: logger) { inbound, outbound, _ in
            try await outbound.write(.text(String(decoding: subscription, as: UTF8.self)))
            for try await message in inbound.messages(maxSize: 4096) {
                guard case .text(let text) = message,
                      let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                      let event = object["event"] as? String else { continue }
                if let outcome = GrantOutcome(rawValue: event) {
                    result.withLock { $0 = outcome }
                    return
                }
            }
        }
        return result.withLock { $0 }
    }
}
