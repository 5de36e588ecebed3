import Foundation
import HallpassCore
import HallpassStore
import NIOCore
import NIOWebSocket

/// One push socket's conversation as a NIO handler (ARCHITECTURE.md §4.3), after the RFC 6455 upgrade:
/// the subscription frame (within `subscribeTimeout`), `subscribed`, exactly one outcome, then
/// the closing handshake; or, for a screen watching its inbox (§4.9), `subscribed`, an `inbox`
/// frame at every change, and the closing handshake when the consent session ends. Store lookups run as short tasks whose results hop back onto the
/// socket's event loop; while a socket merely waits it costs its channel, a bus listener and
/// two scheduled timers, and no Swift task.
final class PushSocketHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private enum State {
        case awaitingSubscription
        case resolving
        /// Subscribed to the bus; `announced` once the `subscribed` frame went out.
        case waiting(DeviceGrant, announced: Bool)
        /// Following an approver's inbox until the session ends.
        case watchingInbox
        case closing
        case closed
    }

    private let session: PushSession
    private let limits: PushLimits
    private var state = State.awaitingSubscription
    private var subscription: GrantSubscription?
    private var claimedGrant: Int64?
    private var subscribeTimer: Scheduled<Void>?
    private var expiryTimer: Scheduled<Void>?
    private var pingTimer: Scheduled<Void>?
    private var closeTimer: Scheduled<Void>?
    private var awaitingPong = false

    init(session: PushSession, limits: PushLimits) {
        self.session = session
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loop = context.eventLoop.assumeIsolated()
        subscribeTimer = loop.scheduleTask(in: limits.subscribeTimeout) {
            self.refuse(context: context, .policyViolation, "send the subscription as the first frame")
        }
        schedulePing(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = Self.unwrapInboundIn(data)
        switch frame.opcode {
        case .ping:
            if !isEnding { send(context: context, .pong, frame.unmaskedData) }
        case .pong:
            awaitingPong = false
        case .connectionClose:
            if case .closing = state {
                context.close(promise: nil)
            } else {
                // RFC 6455 §5.5.1: echo the peer's close, then the server drops the connection;
                // a close body that breaks §5.5.1 / §7.4 fails the connection instead.
                let code: WebSocketErrorCode
                switch Self.closeBody(frame.unmaskedData) {
                case .valid(let received): code = received ?? .normalClosure
                case .protocolError(let why): return fail(context: context, .protocolError, why)
                case .notUTF8: return fail(context: context, .dataInconsistentWithMessage, "close reasons must be UTF-8")
                }
                end(context: context)
                state = .closing
                context.writeAndFlush(Self.wrapOutboundOut(closeFrame(context: context, code, reason: nil)))
                    .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        case .text:
            // RFC 6455 §8.1: a text message that is not UTF-8 fails the connection with 1007.
            let data = frame.unmaskedData
            guard let text = data.withUnsafeReadableBytes({ String(validating: $0, as: UTF8.self) }) else {
                return fail(context: context, .dataInconsistentWithMessage, "text frames must be UTF-8")
            }
            guard case .awaitingSubscription = state else { return }   // later frames mean nothing
            subscribeTimer?.cancel()
            state = .resolving
            resolve(context: context, text: text)
        case .binary:
            if case .awaitingSubscription = state {
                refuse(context: context, .unacceptableData, "the first frame must be a JSON text frame")
            }
        default:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            refuse(context: context, .goingAway, "server shutting down")
        } else if case ChannelEvent.inputClosed = event {
            // The client hung up (the server allows half-closure): nothing more can come, so its
            // descriptor, timers and grant slot go now, not when a timer fires.
            end(context: context)
            state = .closed
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// The fragment aggregator reports broken fragmentation (RFC 6455 §5.4: 1002) and messages
    /// over the limit (1009, §7.4.1); anything else (a TLS or I/O failure) just closes.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error as? NIOWebSocketFrameAggregator.Error {
        case .didReceiveFragmentBeforeReceivingTextOrBinaryFrame:
            fail(context: context, .protocolError, "a continuation frame with no message to continue")
        case .receivedNewFrameWithoutFinishingPrevious:
            fail(context: context, .protocolError, "a new message inside an unfinished fragmented one")
        case .accumulatedFrameSizeIsTooLarge, .tooManyFragments, .nonFinalFragmentSizeIsTooSmall:
            fail(context: context, .messageTooLarge, "messages are limited to \(limits.maxFrame) bytes in 16 fragments")
        case nil:
            end(context: context)
            state = .closed
            context.close(promise: nil)
        }
    }

    enum CloseBody: Equatable {
        case valid(WebSocketErrorCode?)
        case protocolError(String)
        case notUTF8
    }

    /// RFC 6455 §5.5.1: a close body is empty or a 2-byte code and a UTF-8 reason; §7.4.1–2:
    /// 1005, 1006 and 1015 never go on the wire, codes below 1000 and unassigned ones in
    /// 1000–2999 are not used; 3000–4999 belong to libraries and applications.
    static func closeBody(_ data: ByteBuffer) -> CloseBody {
        var data = data
        if data.readableBytes == 0 { return .valid(nil) }
        guard let raw = data.readInteger(as: UInt16.self) else { return .protocolError("a close body of one byte") }
        switch raw {
        case 1000...1003, 1007...1014, 3000...4999: break
        default: return .protocolError("close code \(raw) may not be sent")
        }
        guard data.withUnsafeReadableBytes({ String(validating: $0, as: UTF8.self) }) != nil else { return .notUTF8 }
        return .valid(WebSocketErrorCode(codeNumber: Int(raw)))
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(context: context)
        state = .closed
        context.fireChannelInactive()
    }

    // MARK: the subscription

    private func resolve(context: ChannelHandlerContext, text: String) {
        let session = session
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        Task {
            let result: Result<PushSession.Subject, any Error>
            do { result = .success(try await session.subject(subscription: text)) } catch { result = .failure(error) }
            bound.eventLoop.execute {
                let (handler, context) = bound.value
                handler.resolved(context: context, result)
            }
        }
    }

    private func resolved(context: ChannelHandlerContext, _ result: Result<PushSession.Subject, any Error>) {
        guard case .resolving = state else { return }           // the socket went away meanwhile
        let grant: DeviceGrant
        switch result {
        case .failure(let error):
            let (code, reason) = PushSession.closing(for: error)
            return refuse(context: context, code, reason)
        case .success(.inbox(let user, let until)):
            return watchInbox(context: context, user: user, until: until)
        case .success(.grant(let found)):
            grant = found
        }
        let id = grant.id ?? 0
        if session.forDevice {
            guard session.hub.claim(grantID: id) else {
                return refuse(context: context, .policyViolation, "too many sockets for this grant")
            }
            claimedGrant = id
        }
        state = .waiting(grant, announced: false)
        // Subscribe first, then read the truth, so no decision can slip between the two.
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        subscription = session.hub.events.listen(grantID: id) { event in
            bound.eventLoop.execute {
                let (handler, context) = bound.value
                handler.check(context: context, hint: event.outcome)
            }
        }
        let expiry = TimeAmount.milliseconds(Int64(session.secondsUntilExpiry(grant) * 1000) + 20)
        expiryTimer = context.eventLoop.assumeIsolated().scheduleTask(in: expiry) {
            self.check(context: context, hint: .expired)
        }
        check(context: context, hint: nil)
    }

    /// An approver's inbox: `inbox` at every hint on the bus (the screen re-reads the store),
    /// until the session's end closes the socket normally.
    private func watchInbox(context: ChannelHandlerContext, user: String, until: Date) {
        state = .watchingInbox
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        subscription = session.hub.events.listenInbox(loginHint: user) {
            bound.eventLoop.execute {
                let (handler, context) = bound.value
                guard case .watchingInbox = handler.state else { return }
                handler.send(context: context, .text, text: PushSession.text(of: .inboxChanged))
                handler.session.hub.delivered.increment()
            }
        }
        let left = max(0, until.timeIntervalSince(session.clock.now))
        send(context: context, .text, text: PushSession.text(of: .subscribed(expiresIn: Int(left))))
        expiryTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(left * 1000))) {
            self.refuse(context: context, .normalClosure, "session expired")
        }
    }

    /// Reads the grant's outcome from the store (a bus event is only a hint); the first answer
    /// announces `subscribed`, the first outcome is delivered.
    private func check(context: ChannelHandlerContext, hint: GrantOutcome?) {
        guard case .waiting(let grant, _) = state else { return }
        let session = session
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        Task {
            let result: Result<GrantOutcome?, any Error>
            do {
                let outcome = try await session.currentOutcome(grant)
                result = .success(outcome ?? (hint == .expired ? .expired : nil))
            } catch {
                result = .failure(error)
            }
            bound.eventLoop.execute {
                let (handler, context) = bound.value
                handler.checked(context: context, result)
            }
        }
    }

    private func checked(context: ChannelHandlerContext, _ result: Result<GrantOutcome?, any Error>) {
        guard case .waiting(let grant, let announced) = state else { return }
        guard case .success(let outcome) = result else {
            return refuse(context: context, .unexpectedServerError, "server error")
        }
        if !announced {
            state = .waiting(grant, announced: true)
            send(context: context, .text, text: session.subscribedFrame(grant))
        }
        guard let outcome else { return }
        send(context: context, .text, text: PushSession.frame(outcome))
        session.hub.delivered.increment()
        refuse(context: context, .normalClosure, nil)
    }

    // MARK: frames and the end

    private var isEnding: Bool {
        switch state {
        case .closing, .closed: true
        default: false
        }
    }

    /// Starts the closing handshake: a close frame with `code` and `reason`, then the peer's
    /// close frame or `closeTimeout`, then the connection is dropped.
    private func refuse(context: ChannelHandlerContext, _ code: WebSocketErrorCode, _ reason: String?) {
        guard !isEnding else { return }
        end(context: context)
        state = .closing
        context.writeAndFlush(Self.wrapOutboundOut(closeFrame(context: context, code, reason: reason)), promise: nil)
        closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: limits.closeTimeout) {
            context.close(promise: nil)
        }
    }

    /// Fails the connection (RFC 6455 §7.1.7, for a peer that broke the protocol): the close
    /// frame, a half-close, and the close once the peer hangs up or after a second; no
    /// closing handshake is waited for.
    private func fail(context: ChannelHandlerContext, _ code: WebSocketErrorCode, _ reason: String) {
        guard !isEnding else { return }
        end(context: context)
        state = .closing
        context.writeAndFlush(Self.wrapOutboundOut(closeFrame(context: context, code, reason: reason)))
            .assumeIsolated().whenComplete { _ in context.close(mode: .output, promise: nil) }
        closeTimer = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) {
            context.close(promise: nil)
        }
    }

    /// Releases what the socket holds: timers, its bus listener and its grant slot.
    private func end(context: ChannelHandlerContext) {
        subscribeTimer?.cancel()
        expiryTimer?.cancel()
        pingTimer?.cancel()
        subscription?.cancel()
        subscription = nil
        if let claimedGrant { session.hub.unclaim(grantID: claimedGrant) }
        claimedGrant = nil
        if case .closed = state { closeTimer?.cancel() }
    }

    /// Pings every `pingInterval`; a socket that let the previous ping go unanswered is dead.
    private func schedulePing(context: ChannelHandlerContext) {
        pingTimer = context.eventLoop.assumeIsolated().scheduleTask(in: limits.pingInterval) {
            guard !self.isEnding else { return }
            if self.awaitingPong { return context.close(promise: nil) }
            self.awaitingPong = true
            self.send(context: context, .ping, context.channel.allocator.buffer(capacity: 0))
            self.schedulePing(context: context)
        }
    }

    private func send(context: ChannelHandlerContext, _ opcode: WebSocketOpcode, text: String) {
        send(context: context, opcode, context.channel.allocator.buffer(string: text))
    }

    private func send(context: ChannelHandlerContext, _ opcode: WebSocketOpcode, _ data: ByteBuffer) {
        context.writeAndFlush(Self.wrapOutboundOut(WebSocketFrame(fin: true, opcode: opcode, data: data)), promise: nil)
    }

    private func closeFrame(context: ChannelHandlerContext, _ code: WebSocketErrorCode, reason: String?) -> WebSocketFrame {
        var data = context.channel.allocator.buffer(capacity: 2 + (reason?.utf8.count ?? 0))
        data.write(webSocketErrorCode: code)
        if let reason { data.writeString(Self.clipped(reason, toUTF8: 123)) }   // RFC 6455 §5.5: 125 bytes in all
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }

    /// `text` cut at a character boundary to at most `limit` UTF-8 bytes.
    static func clipped(_ text: String, toUTF8 limit: Int) -> String {
        var used = 0
        return String(text.prefix { used += $0.utf8.count; return used <= limit })
    }
}
