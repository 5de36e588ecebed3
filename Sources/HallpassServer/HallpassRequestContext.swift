import Hummingbird
import NIOCore

/// The request context of every Hallpass route: knows the peer address (rate limits, the
/// device IP shown on the consent screen) and caps bodies at 64 KiB.
public struct HallpassRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }

    /// Form and JSON bodies larger than this are answered 413.
    public var maxUploadSize: Int { 64 * 1024 }

    /// The peer's IP address as text, or "unknown" (tests, Unix sockets).
    public var peerIP: String { remoteAddress?.ipAddress ?? "unknown" }
}
