import NIOCore
import NIOWebSocket

/// RFC 6455 frame-header checks the WebSocket stack does not make, in front of its decoder: a
/// client frame must be masked (§5.1), no RSV bit may be set when no extension was negotiated,
/// no reserved opcode may be used (§5.2), a control frame must be final and at most 125 bytes
/// (§5.5), and a 64-bit payload length must have its high bit clear (§5.2). A violation fails
/// the connection (§7.1.7): a close frame with 1002 (protocol error), a half-close, then the
/// close once the peer hangs up or after `lingerTime`. It reads only frame headers.
///
/// It sits right after `HTTPEdgeGuard`, i.e. behind TLS when there is TLS: it must see frames,
/// not ciphertext.
final class WebSocketFrameGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Why a header was refused (its text goes into the close frame's reason).
    enum Violation: String, Equatable {
        case unmasked = "client frames must be masked"
        case reservedBits = "RSV bits set without an extension"
        case reservedOpcode = "reserved opcode"
        case fragmentedControl = "control frames must not be fragmented"
        case longControl = "control frames carry at most 125 bytes"
        case lengthHighBit = "64-bit length with its high bit set"
    }

    private enum State {
        case header([UInt8])
        case skip(UInt64)
        case failed
    }
    private var state = State.header([])
    private let lingerTime: TimeAmount
    private var lingerTimer: Scheduled<Void>?

    init(lingerTime: TimeAmount = .seconds(1)) {
        self.lingerTime = lingerTime
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .failed = state { return }
        let buffer = unwrapInboundIn(data)
        if let violation = scan(buffer.readableBytesView) {
            fail(context: context, violation)
            return
        }
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .failed = state, case ChannelEvent.inputClosed = event {
            context.close(promise: nil)      // the peer read our close frame and hung up
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // After a failure nothing but our close frame goes out (a late outcome must not follow it).
        if case .failed = state {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        lingerTimer?.cancel()
        context.fireChannelInactive()
    }

    private func fail(context: ChannelHandlerContext, _ violation: Violation) {
        state = .failed
        var frame = context.channel.allocator.buffer(capacity: 4 + violation.rawValue.utf8.count)
        frame.writeInteger(UInt8(0x88))                                      // FIN, close
        frame.writeInteger(UInt8(2 + violation.rawValue.utf8.count))         // unmasked, ≤ 125
        frame.write(webSocketErrorCode: .protocolError)
        frame.writeString(violation.rawValue)
        context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { _ in
            context.close(mode: .output, promise: nil)
        }
        lingerTimer = context.eventLoop.assumeIsolated().scheduleTask(in: lingerTime) { context.close(promise: nil) }
    }

    /// Walks the frame headers in `bytes`; the first violation, if any.
    private func scan(_ bytes: ByteBufferView) -> Violation? {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch state {
            case .failed:
                return nil
            case .skip(let left):
                let take = min(UInt64(bytes.endIndex - index), left)
                index += Int(take)
                state = left - take == 0 ? .header([]) : .skip(left - take)
            case .header(var header):
                header.append(bytes[index])
                index += 1
                if header.count == 1, let violation = Self.check(first: header[0]) { return violation }
                guard header.count >= 2 else { state = .header(header); continue }
                if header.count == 2, let violation = Self.check(first: header[0], second: header[1]) { return violation }
                let short = header[1] & 0x7F
                let lengthBytes = short == 126 ? 2 : short == 127 ? 8 : 0
                guard header.count >= 2 + lengthBytes + 4 else { state = .header(header); continue }
                var length = UInt64(short)
                if lengthBytes > 0 {
                    length = header[2..<(2 + lengthBytes)].reduce(0) { $0 << 8 | UInt64($1) }
                    if lengthBytes == 8, header[2] & 0x80 != 0 { return .lengthHighBit }
                }
                state = length == 0 ? .header([]) : .skip(length)
            }
        }
        return nil
    }

    /// The first header byte: FIN, RSV1–3, opcode.
    static func check(first: UInt8) -> Violation? {
        if first & 0x70 != 0 { return .reservedBits }
        let opcode = first & 0x0F
        if (0x3...0x7).contains(opcode) || opcode >= 0xB { return .reservedOpcode }
        if opcode >= 0x8, first & 0x80 == 0 { return .fragmentedControl }
        return nil
    }

    /// The second header byte: MASK and the 7-bit length.
    static func check(first: UInt8, second: UInt8) -> Violation? {
        if second & 0x80 == 0 { return .unmasked }
        if first & 0x0F >= 0x8, second & 0x7F > 125 { return .longControl }
        return nil
    }
}
