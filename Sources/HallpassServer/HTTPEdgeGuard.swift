import HallpassCore
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The first handler of every HTTP connection, in front of the HTTP decoder: it runs the bytes
/// through `HTTPRequestScanner`, answers a malformed request itself with its status (400, 408,
/// 414, 431, 501, 505) and closes, and enforces the head and body deadlines of `HTTPEdgeLimits`.
/// Kept-alive connections between requests are timed by Hummingbird's idle timeout.
/// After a WebSocket upgrade it passes bytes through untouched.
final class HTTPEdgeGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    enum Mode {
        case scanning
        /// An upgrade was asked for: what follows is held until the upgrade is done or refused.
        case awaitingUpgrade(held: ByteBuffer?)
        case passthrough
        /// Refused or timed out; nothing more is read.
        case closing
    }

    let limits: HTTPEdgeLimits
    let admission: HTTPConnectionAdmission
    private var scanner: HTTPRequestScanner
    private var mode = Mode.scanning
    private var context: ChannelHandlerContext?
    private var headTimer: Scheduled<Void>?
    private var bodyTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?
    /// Heads passed on whose responses have not ended (Hummingbird answers them in order).
    private var inFlight = 0
    /// A refusal waiting for the responses before it to be written.
    private var pendingRejection: HTTPRequestScanner.Rejection?
    private var firstHead = true

    init(admission: HTTPConnectionAdmission) {
        self.admission = admission
        self.limits = admission.limits
        self.scanner = HTTPRequestScanner(limits: admission.limits.scanner)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The first head must arrive within headTimeout of the accept.
        headTimer = schedule(context, in: limits.headTimeout) { guard_, context in guard_.headTimedOut(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        for timer in [headTimer, bodyTimer, closeTimer] { timer?.cancel() }
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        for timer in [headTimer, bodyTimer, closeTimer] { timer?.cancel() }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .closing = mode, case ChannelEvent.inputClosed = event {
            context.close(promise: nil)   // the client read our answer and hung up
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        switch mode {
        case .passthrough: return context.fireChannelRead(data)
        case .closing: return
        case .awaitingUpgrade(var held):
            held = held.map { var h = $0; h.writeImmutableBuffer(buffer); return h } ?? buffer
            guard held!.readableBytes <= 16 * 1024 else { return refuse(.init(status: 400, reason: "data before the upgrade completed"), context) }
            mode = .awaitingUpgrade(held: held)
            return
        case .scanning:
            scan(&buffer, context)
        }
    }

    private func scan(_ buffer: inout ByteBuffer, _ context: ChannelHandlerContext) {
        while buffer.readableBytes > 0 {
            let wasInBody = scanner.isInBody
            let (consumed, event) = buffer.withUnsafeReadableBytes { scanner.scan($0) }
            let part = buffer.readSlice(length: consumed)!
            switch event {
            case nil:
                context.fireChannelRead(wrapInboundOut(part))
            case .headComplete(let upgrade):
                headTimer?.cancel()
                headTimer = nil
                inFlight += 1
                if scanner.isInBody {
                    bodyTimer = schedule(context, in: limits.bodyTimeout) { guard_, context in guard_.bodyTimedOut(context) }
                }
                let wasFirst = firstHead
                firstHead = false
                // NIO upgrades only a connection's first request; later ones get a 307.
                if upgrade, wasFirst { mode = .awaitingUpgrade(held: nil) }
                context.fireChannelRead(wrapInboundOut(part))
                switch mode {
                case .scanning: continue
                case .passthrough:
                    if buffer.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(buffer)) }
                case .awaitingUpgrade:
                    if buffer.readableBytes > 0 { mode = .awaitingUpgrade(held: buffer) }
                case .closing: break
                }
                return
            case .requestComplete:
                bodyTimer?.cancel()
                bodyTimer = nil
                context.fireChannelRead(wrapInboundOut(part))
            case .rejected(let rejection):
                if wasInBody {
                    // The head is already with the application: end its body here, so that it
                    // answers 400 for a cut-off body (RequestReading) and the connection closes.
                    endBody(context)
                } else {
                    refuse(rejection, context)
                }
                return
            }
        }
    }

    /// Called from the upgrade's pipeline handler once the connection is a WebSocket.
    func becomePassthrough() {
        guard let context else { return }
        let held: ByteBuffer?
        if case .awaitingUpgrade(let h) = mode { held = h } else { held = nil }
        mode = .passthrough
        for timer in [headTimer, bodyTimer] { timer?.cancel() }
        if let held, held.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(held)) }
    }

    /// A response has been written to its end (`ResponseEndObserver`).
    func responseEnded() {
        guard let context else { return }
        inFlight = max(0, inFlight - 1)
        if case .awaitingUpgrade(let held) = mode {
            // The upgrade was refused and answered: carry on as HTTP.
            mode = .scanning
            if var held { scan(&held, context) }
        }
        if inFlight == 0, let rejection = pendingRejection {
            pendingRejection = nil
            writeRefusal(rejection, context)
        }
    }

    private func refuse(_ rejection: HTTPRequestScanner.Rejection, _ context: ChannelHandlerContext) {
        mode = .closing
        admission.rejectedRequests.increment()
        for timer in [headTimer, bodyTimer] { timer?.cancel() }
        if inFlight == 0 { writeRefusal(rejection, context) } else { pendingRejection = rejection }
        // Whatever happens to the answer, the connection is gone within a few seconds.
        closeTimer = schedule(context, in: 5) { _, context in context.close(promise: nil) }
    }

    private func writeRefusal(_ rejection: HTTPRequestScanner.Rejection, _ context: ChannelHandlerContext) {
        let error = ErrorAnswer(OAuthError(.invalidRequest, rejection.reason), status: .init(code: rejection.status))
        let bytes = Self.responseBytes(for: error)
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: bytes))).whenComplete { _ in
            // Half-close, so the client reads the whole answer before the connection goes (a
            // full close with unread input would reset it); then close on its EOF or in 1 s.
            context.close(mode: .output, promise: nil)
            self.closeTimer?.cancel()
            self.closeTimer = self.schedule(context, in: 1) { _, context in context.close(promise: nil) }
        }
    }

    private func endBody(_ context: ChannelHandlerContext) {
        mode = .closing
        admission.rejectedRequests.increment()
        bodyTimer?.cancel()
        context.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        closeTimer = schedule(context, in: 5) { _, context in context.close(promise: nil) }
    }

    private func headTimedOut(_ context: ChannelHandlerContext) {
        headTimer = nil
        admission.timedOut.increment()
        if scanner.isInHead {
            refuse(.init(status: 408, reason: "the request head did not arrive within \(limits.headTimeout) s"), context)
        } else {
            mode = .closing
            context.close(promise: nil)   // nothing was asked: nothing to answer
        }
    }

    private func bodyTimedOut(_ context: ChannelHandlerContext) {
        bodyTimer = nil
        admission.timedOut.increment()
        endBody(context)
    }

    private func schedule(_ context: ChannelHandlerContext, in seconds: Int64,
                          _ action: @escaping (HTTPEdgeGuard, ChannelHandlerContext) -> Void) -> Scheduled<Void> {
        let loop = context.eventLoop.assumeIsolated()
        return loop.scheduleTask(in: .seconds(seconds)) { [self] in action(self, context) }
    }
}
