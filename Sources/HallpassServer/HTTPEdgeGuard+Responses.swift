import HallpassCore
import HTTPTypes
import NIOCore
import NIOHTTPTypes

extension HTTPEdgeGuard {
    /// A whole HTTP/1.1 response for a request refused at the edge: the RFC 6749 §5.2 JSON
    /// error, `no-store`, and `Connection: close` (RFC 9112 §9.6).
    static func responseBytes(for error: ErrorAnswer) -> [UInt8] {
        let body = error.bodyBytes
        let phrase = reasonPhrases[error.status.code] ?? "Bad Request"
        var text = "HTTP/1.1 \(error.status.code) \(phrase)\r\n"
        text += "Content-Type: application/json;charset=UTF-8\r\nCache-Control: no-store\r\nPragma: no-cache\r\n"
        text += "Connection: close\r\nContent-Length: \(body.count)\r\n\r\n"
        return Array(text.utf8) + body
    }

    /// RFC 9110 §15 reason phrases of the statuses the edge answers with.
    static let reasonPhrases = [400: "Bad Request", 408: "Request Timeout", 414: "URI Too Long",
                                431: "Request Header Fields Too Large", 501: "Not Implemented",
                                505: "HTTP Version Not Supported"]
}

/// Tells the edge guard when each response has been written to its end, so a refusal of a
/// later, pipelined request is never written into the middle of an earlier response.
final class ResponseEndObserver: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart
    let edge: HTTPEdgeGuard

    init(edge: HTTPEdgeGuard) { self.edge = edge }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd { edge.responseEnded() }
    }
}
