import Foundation
import HallpassCore
import HallpassStore
import Logging
import Prometheus
import NIOCore
import NIOWebSocket
import Synchronization

/// Socket budgets for the push channel.
public struct PushLimits: Sendable {
    public var perGrant = 2
    public var perAddress = 200
    public var total = 30_000
    public var maxFrame = 4096
    /// How long a new socket may take to send its subscription frame.
    public var subscribeTimeout: TimeAmount = .seconds(10)
    /// A ping this often; a socket that has not answered the previous one is closed.
    public var pingInterval: TimeAmount = .seconds(20)
    /// How long a closing socket waits for the peer's close frame before dropping the connection.
    public var closeTimeout: TimeAmount = .seconds(5)
    public init() {}
}

/// `GET /oauth/device/push` and `GET /consent/events` (ARCHITECTURE.md §4.3): WebSockets on which devices
/// and approvers' screens learn a grant's outcome the moment it is decided or expires. Push is
/// a hint and never carries a token; the token endpoint stays the only authority.
public final class DevicePushHub: Sendable {
    let grants: any GrantStore
    let events: any GrantEventBus
    /// Approvers' sockets are held to the consent API's sessions and lookup budgets.
    let desk: ConsentDesk
    let unknownCodes: UnknownDeviceCodeBudget
    let clock: any WallClock
    let trustedProxies: TrustedProxies
    let delivered: Counter
    let limits: PushLimits
    let devicePath: String
    let consentPath: String
    private let counts = Mutex(Counts())

    struct Counts {
        var connections = ConnectionCounts()
        var byGrant: [Int64: Int] = [:]
    }

    init(grants: any GrantStore, events: any GrantEventBus, desk: ConsentDesk, unknownCodes: UnknownDeviceCodeBudget,
         clock: any WallClock, basePath: String, trustedProxies: TrustedProxies, delivered: Counter, limits: PushLimits) {
        self.grants = grants
        self.events = events
        self.desk = desk
        self.unknownCodes = unknownCodes
        self.clock = clock
        self.trustedProxies = trustedProxies
        self.delivered = delivered
        self.limits = limits
        devicePath = basePath + "/oauth/device/push"
        consentPath = basePath + "/consent/events"
    }

    /// Decides an upgrade request: only the two push paths, never with a query string (a
    /// device_code in a URL ends up in logs), and only within the socket budgets. A refused
    /// upgrade is answered with `refusal(for:)`.
    /// Runs on the connection's event loop.
    func admit(uri: String, forwardedFor: [String], channel: any Channel) -> Bool {
        guard pushPath(uri) != nil, !uri.contains("?") else { return false }
        let address = address(of: channel, forwardedFor: forwardedFor)
        let admitted = counts.withLock { $0.connections.admit(address, total: limits.total, perAddress: limits.perAddress) }
        guard admitted else { return false }
        // The frame guard must be in place before any frame arrives; without it, no upgrade.
        // It goes right after the edge guard (behind TLS, which `.first` would put it in front of).
        do {
            let edge = try channel.pipeline.syncOperations.handler(type: HTTPEdgeGuard.self)
            try channel.pipeline.syncOperations.addHandler(WebSocketFrameGuard(), position: .after(edge))
        } catch {
            release(address: address)
            return false
        }
        // The slot lives exactly as long as the connection, even if no handler ever runs.
        channel.closeFuture.whenComplete { _ in self.release(address: address) }
        return true
    }

    /// After the 101: the socket's conversation, as NIO handlers (no task per socket).
    func installSocket(on channel: any Channel, uri: String, forwardedFor: [String]) throws {
        let session = PushSession(hub: self, address: address(of: channel, forwardedFor: forwardedFor),
                                  forDevice: pushPath(uri) == devicePath)
        try channel.pipeline.syncOperations.addHandlers([
            NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 16, maxAccumulatedFrameSize: limits.maxFrame),
            PushSocketHandler(session: session, limits: limits),
        ])
    }

    /// The push path `uri` names, without its query; nil for every other path.
    func pushPath(_ uri: String) -> String? {
        let path = String(uri.prefix { $0 != "?" })
        return path == devicePath || path == consentPath ? path : nil
    }

    /// Why an upgrade request was refused: not a push path, a query string (a device_code in a
    /// URL ends up in logs), or the socket budgets (try again later; polling still works).
    func refusal(for uri: String) -> ErrorAnswer {
        guard pushPath(uri) != nil else {
            return .notFound("WebSockets are served at \(devicePath) and \(consentPath) only")
        }
        guard !uri.contains("?") else { return ErrorAnswer(Self.plainRequestRefusal) }
        return ErrorAnswer(OAuthError(.temporarilyUnavailable, "too many push sockets are open; poll the token endpoint meanwhile"),
                           retryAfter: 5)
    }

    /// The answer to a request on a push path that is not a WebSocket upgrade.
    static let plainRequestRefusal = OAuthError(
        .invalidRequest, "open a WebSocket here and send the subscription as the first text frame (never in the URL)")

    private func release(address: String) {
        counts.withLock { $0.connections.release(address) }
    }

    /// Reserves one of a grant's sockets; false when it already has `perGrant`.
    func claim(grantID: Int64) -> Bool {
        counts.withLock { c in
            guard c.byGrant[grantID, default: 0] < limits.perGrant else { return false }
            c.byGrant[grantID, default: 0] += 1
            return true
        }
    }

    func unclaim(grantID: Int64) {
        counts.withLock { c in
            c.byGrant[grantID, default: 1] -= 1
            if c.byGrant[grantID] == 0 { c.byGrant[grantID] = nil }
        }
    }

    /// The client's address: the socket's peer, or behind a trusted proxy the one it forwarded.
    func address(of channel: any Channel, forwardedFor: [String]) -> String {
        let peer = HallpassRequestContext.canonical(channel.remoteAddress)
        return trustedProxies.clientAddress(peer: peer, forwardedFor: forwardedFor)
    }
}
