import Foundation
import HallpassCore
import HallpassStore
import HTTPTypes
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// Socket budgets for the push channel.
public struct PushLimits: Sendable {
    public var perGrant = 2
    public var perAddress = 200
    public var total = 30_000
    public var maxFrame = 4096
    /// How long a new socket may take to send its subscription frame.
    public var subscribeTimeout: Duration = .seconds(10)
    public init() {}
}

/// `GET /oauth/device/push` and `GET /consent/events` (DESIGN §4): WebSockets on which devices
/// and approvers' screens learn a grant's outcome the moment it is decided or expires. Push is
/// a hint and never carries a token; the token endpoint stays the only authority.
public final class DevicePushHub: Sendable {
    let server: AuthorizationServer
    let limits: PushLimits
    private let counts = Mutex(Counts())

    struct Counts {
        var total = 0
        var byAddress: [String: Int] = [:]
        var byGrant: [Int64: Int] = [:]
    }

    public init(server: AuthorizationServer, limits: PushLimits = PushLimits()) {
        self.server = server
        self.limits = limits
    }

    var devicePath: String { server.configuration.basePath + "/oauth/device/push" }
    var consentPath: String { server.configuration.basePath + "/consent/events" }

    /// Decides an upgrade request: only the two push paths, never with a query string (a
    /// device_code in a URL ends up in logs), and only within the socket budgets.
    func shouldUpgrade(_ request: HTTPRequest, channel: any Channel) -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>> {
        let raw = request.path ?? ""
        let path = String(raw.prefix { $0 != "?" })
        guard path == devicePath || path == consentPath, !raw.contains("?") else { return .dontUpgrade }
        let address = Self.address(of: channel)
        let admitted = counts.withLock { c in
            guard c.total < limits.total, c.byAddress[address, default: 0] < limits.perAddress else { return false }
            c.total += 1
            c.byAddress[address, default: 0] += 1
            return true
        }
        guard admitted else { return .dontUpgrade }
        // The frame guard must be in place before any frame arrives; without it, no upgrade.
        do {
            try channel.pipeline.syncOperations.addHandler(WebSocketFrameGuard(), position: .first)
        } catch {
            release(address: address)
            return .dontUpgrade
        }
        // The slot lives exactly as long as the connection, even if the handler never starts.
        channel.closeFuture.whenComplete { _ in self.release(address: address) }
        let forDevice = path == devicePath
        return .upgrade([:]) { inbound, outbound, context in
            let session = PushSession(hub: self, address: address, forDevice: forDevice)
            await session.run(inbound: inbound, outbound: outbound, logger: context.logger)
        }
    }

    private func release(address: String) {
        counts.withLock { c in
            c.total -= 1
            c.byAddress[address, default: 1] -= 1
            if c.byAddress[address] == 0 { c.byAddress[address] = nil }
        }
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

    static func address(of channel: any Channel) -> String {
        channel.remoteAddress?.ipAddress ?? "unknown"
    }
}
