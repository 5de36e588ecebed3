import NIOCore
import NIOHTTP1

/// RFC 9112 §9.3: a connection persists only when the request allows it. An HTTP/1.0 request
/// without `Connection: keep-alive`, or any request with `Connection: close`, gets an answer with
/// `Connection: close` and then the connection closes. Hummingbird's loop knows only the
/// version-less HTTP types and closes only on the exact header `close`, so an HTTP/1.0 client
/// that reads to the end of the connection (w3m, lynx, many scripts) waited until the idle
/// timeout. This handler, in front of the HTTP-types codec, states the decision in the one
/// form the loop understands, and in the response.
final class PersistenceGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Whether the request being answered ends the connection.
    private var closeAfterResponse = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        closeAfterResponse = !head.isKeepAlive
        if closeAfterResponse { head.headers.replaceOrAdd(name: "connection", value: "close") }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard closeAfterResponse, case .head(var head) = unwrapOutboundIn(data), head.status.code >= 200 else {
            context.write(data, promise: promise)
            return
        }
        head.headers.replaceOrAdd(name: "connection", value: "close")
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }
}
