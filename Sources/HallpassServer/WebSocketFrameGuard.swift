import NIOCore

/// RFC 6455 §5.1–5.2 checks the WebSocket stack does not make: every client frame must be
/// masked, and a 64-bit payload length must have its high bit clear. Sits in front of the
/// pipeline and reads only frame headers; a violating connection is closed, alone.
final class WebSocketFrameGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum State {
        case header([UInt8])
        case skip(UInt64)
    }
    private var state = State.header([])
    private var closed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closed else { return }
        let buffer = unwrapInboundIn(data)
        if !scan(buffer.readableBytesView) {
            closed = true
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
    }

    /// Walks the frame headers in `bytes`; false as soon as one breaks the rules.
    private func scan(_ bytes: ByteBufferView) -> Bool {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            switch state {
            case .skip(let left):
                let take = min(UInt64(bytes.endIndex - index), left)
                index += Int(take)
                state = left - take == 0 ? .header([]) : .skip(left - take)
            case .header(var header):
                header.append(bytes[index])
                index += 1
                guard header.count >= 2 else { state = .header(header); continue }
                guard header[1] & 0x80 != 0 else { return false }          // unmasked client frame
                let short = header[1] & 0x7F
                let lengthBytes = short == 126 ? 2 : short == 127 ? 8 : 0
                guard header.count >= 2 + lengthBytes + 4 else { state = .header(header); continue }
                var length = UInt64(short)
                if lengthBytes > 0 {
                    length = header[2..<(2 + lengthBytes)].reduce(0) { $0 << 8 | UInt64($1) }
                    if lengthBytes == 8, header[2] & 0x80 != 0 { return false }   // high bit set
                }
                state = length == 0 ? .header([]) : .skip(length)
            }
        }
        return true
    }
}
