import HallpassCore
import Hummingbird
import NIOCore

/// The request context of every Hallpass route: knows the client's address (rate limits, the
/// device IP shown on the consent screen) and caps bodies at 64 KiB.
public struct HallpassRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The client's address in canonical form: the socket's peer, or — behind a trusted proxy —
    /// the address `ClientAddressMiddleware` reads from `X-Forwarded-For`.
    public var clientIP: String

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
        self.clientIP = Self.canonical(source.channel.remoteAddress)
    }

    /// Form and JSON bodies larger than this are answered 413.
    public var maxUploadSize: Int { 64 * 1024 }

    /// The socket peer's IP address in canonical form, or "unknown" (tests, Unix sockets).
    public var peerIP: String { Self.canonical(remoteAddress) }

    /// `::ffff:10.1.2.3` (a dual-stack listener) and `10.1.2.3` are one client.
    public static func canonical(_ address: SocketAddress?) -> String {
        IPAddress.canonicalPeer(address?.ipAddress)
    }
}
