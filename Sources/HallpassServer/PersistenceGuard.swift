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

    /// For each request read and not yet answered, in order (pipelined requests can be read
    /// before the earlier ones are answered): whether it ends the connection.
    private var endsConnection: [Bool] = []
    private var next = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        endsConnection.append(!head.isKeepAlive)
        if !head.isKeepAlive { head.headers.replaceOrAdd(name: "connection", value: "close") }
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// Each final (≥ 200) response head answers the oldest unanswered request.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .head(var head) = unwrapOutboundIn(data), head.status.code >= 200, next < endsConnection.count else {
            context.write(data, promise: promise)
            return
        }
        let ends = endsConnection[next]
        next += 1
        if next > 64 { endsConnection.removeFirst(next); next = 0 }
        guard ends else {
            context.write(data, promise: promise)
            return
        }
        head.headers.replaceOrAdd(name: "connection", value: "close")
        context.write(wrapOutboundOut(.head(head)), promise: promise)
    }
}
