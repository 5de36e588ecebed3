import Foundation
import HallpassCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSH
import ServiceLifecycle

/// Budgets that apply before and around authentication.
public struct SSHLimits: Sendable {
    public var connectionsPerAddress = 10
    public var connections = 256
    /// Authentication requests one connection may make (keys and passwords together).
    public var attemptsPerConnection = 6
    /// From accept to a successful authentication.
    public var handshakeTimeout: TimeAmount = .seconds(30)
    /// Without a byte either way.
    public var idleTimeout: TimeAmount = .minutes(15)
    /// However busy.
    public var sessionLifetime: TimeAmount = .hours(2)
    public init() {}
}

/// `ssh -p 2222 host` (issue 5): swift-nio-ssh on its own port, one more service beside the HTTP
/// server. Each authenticated connection may open one `session` channel, which runs the consent
/// screen on a pseudo-terminal as the user who authenticated.
public struct SSHFront: Service {
    let gate: any SSHConsentGate
    let hostKey: SSHHostKey
    let host: String
    let port: Int
    let launch: SSHSessionLaunch
    let limits: SSHLimits
    let logger: Logger
    let onBound: @Sendable (Int) -> Void
    private let counts = NIOLockedValueBox(ConnectionCounts())

    /// `serverURL` is where the consent screen the front runs talks to the consent API (the
    /// server's own listen address, so keypresses stay off any load balancer).
    /// `theme` is asked at each session's start, so a theme changed in the configuration and
    /// reloaded (SIGHUP) applies to the next session; each session's `hallpass approve` reads
    /// the theme file itself.
    public init(gate: any SSHConsentGate, serverURL: String, hostKey: SSHHostKey, host: String, port: Int, executable: String,
                theme: @escaping @Sendable () -> String? = { nil },
                limits: SSHLimits = SSHLimits(), logger: Logger, onBound: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.gate = gate
        self.hostKey = hostKey
        self.host = host
        self.port = port
        self.launch = SSHSessionLaunch(executable: executable, serverURL: serverURL, theme: theme)
        self.limits = limits
        self.logger = logger
        self.onBound = onBound
    }

    public func run() async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in self.accept(child) }
            .bind(host: host, port: port).get()
        onBound(channel.localAddress?.port ?? port)
        try? await gracefulShutdown()
        try await channel.close()
    }

    /// Admits a connection within the budgets and sets up its SSH pipeline and timers.
    private func accept(_ channel: any Channel) -> EventLoopFuture<Void> {
        // The same canonical form as HTTP, so a dual-stack listener's ::ffff:a.b.c.d and a.b.c.d
        // share one login budget.
        let address = IPAddress.canonicalPeer(channel.remoteAddress?.ipAddress)
        let admitted = counts.withLockedValue {
            $0.admit(address, total: limits.connections, perAddress: limits.connectionsPerAddress)
        }
        guard admitted else { return channel.close() }
        channel.closeFuture.whenComplete { _ in self.counts.withLockedValue { $0.release(address) } }
        let authenticator = SSHAuthenticator(gate: gate, source: address, maxAttempts: limits.attemptsPerConnection)
        let sessions = NIOLockedValueBox(0)
        let launch = launch, gate = gate
        let loop = channel.eventLoop
        loop.scheduleTask(in: limits.handshakeTimeout) {
            if authenticator.identity.withLockedValue({ $0 == nil }) { channel.close(promise: nil) }
        }
        loop.scheduleTask(in: limits.sessionLifetime) { channel.close(promise: nil) }
        return loop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandlers([
                IdleStateHandler(allTimeout: limits.idleTimeout),
                NIOSSHHandler(
                    role: .server(.init(hostKeys: [hostKey.nioKey], userAuthDelegate: authenticator)),
                    allocator: channel.allocator,
                    inboundChildChannelInitializer: { child, type in
                        // One session per connection, and only sessions: no forwarding of any kind.
                        guard case .session = type, let identity = authenticator.identity.withLockedValue({ $0 }),
                              sessions.withLockedValue({ $0 += 1; return $0 }) == 1
                        else { return child.eventLoop.makeFailedFuture(SSHFrontError("channel refused")) }
                        return child.eventLoop.makeCompletedFuture {
                            try child.pipeline.syncOperations.addHandler(
                                SSHSessionHandler(launch: launch, gate: gate, session: identity))
                        }
                    }),
                ConnectionCloser(logger: logger),
            ])
        }
    }
}

/// Closes a connection on any pipeline error or when it has been idle too long.
final class ConnectionCloser: ChannelInboundHandler, Sendable {
    typealias InboundIn = Any
    let logger: Logger
    init(logger: Logger) { self.logger = logger }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("ssh connection closed: \(error)")
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent { context.close(promise: nil) } else { context.fireUserInboundEventTriggered(event) }
    }
}
