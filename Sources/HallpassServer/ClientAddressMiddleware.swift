import HallpassCore
import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let xForwardedFor = HTTPField.Name(TrustedProxies.headerName)!
}

/// Behind a load balancer every socket's peer is the balancer: this sets the request context's
/// `clientIP` from `X-Forwarded-For` when — and only when — the peer is a trusted proxy
/// (`trusted_proxies`), so per-address budgets and the device IP on the consent screen are the
/// client's. Without trusted proxies the header is ignored: anyone could write it.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = HallpassRequestContext
    let trusted: TrustedProxies

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard !trusted.isEmpty else { return try await next(request, context) }
        var context = context
        context.clientIP = trusted.clientAddress(peer: context.peerIP, forwardedFor: request.headers[values: .xForwardedFor])
        return try await next(request, context)
    }
}
