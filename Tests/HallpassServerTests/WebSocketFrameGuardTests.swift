import NIOCore
import NIOEmbedded
@testable import HallpassServer
import Testing

/// RFC 6455 header rules `WebSocketFrameGuard` enforces before NIO's decoder: a violation is
/// answered with a 1002 close frame, a half-close, and the close.
@Suite struct WebSocketFrameGuardTests {
    /// A masked client frame: `first` is FIN/RSV/opcode, then a 7-bit length and a zero mask.
    static func frame(_ first: UInt8, length: UInt8 = 0, masked: Bool = true) -> [UInt8] {
        [first, (masked ? 0x80 : 0) | length] + (masked ? [0, 0, 0, 0] : []) + Array(repeating: 0x61, count: Int(length))
    }

    /// Records the close modes the guard asks for and keeps a half-close from closing the
    /// embedded channel (which would ignore the mode and close it all).
    final class CloseSpy: ChannelOutboundHandler, @unchecked Sendable {
        typealias OutboundIn = ByteBuffer
        var modes: [CloseMode] = []
        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            modes.append(mode)
            if mode == .output { promise?.succeed(()) } else { context.close(mode: mode, promise: promise) }
        }
    }

    func run(_ bytes: [UInt8], spy: CloseSpy = CloseSpy()) throws -> (passed: [UInt8], answer: [UInt8], channel: EmbeddedChannel) {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([spy, WebSocketFrameGuard()])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_000)).wait()   // active, as a real socket
        try channel.writeInbound(ByteBuffer(bytes: bytes))
        var passed: [UInt8] = []
        while let buffer = try channel.readInbound(as: ByteBuffer.self) { passed += Array(buffer.readableBytesView) }
        var answer: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { answer += Array(buffer.readableBytesView) }
        return (passed, answer, channel)
    }

    @Test(arguments: [
        (frame(0x83), "reserved opcode"), (frame(0x8B), "reserved opcode"), (frame(0x8F), "reserved opcode"),
        (frame(0xC1), "RSV bits set without an extension"), (frame(0x91), "RSV bits set without an extension"),
        (frame(0x81, masked: false), "client frames must be masked"),
        (frame(0x09), "control frames must not be fragmented"),
        ([0x89, 0xFE, 0x00, 0x7E, 0, 0, 0, 0], "control frames carry at most 125 bytes"),
        ([0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0], "64-bit length with its high bit set"),
    ])
    func aViolationIsAnsweredWith1002AndItsReason(bytes: [UInt8], reason: String) throws {
        let spy = CloseSpy()
        let (passed, answer, channel) = try run(bytes, spy: spy)
        #expect(passed.isEmpty)
        #expect(answer == [0x88, UInt8(2 + reason.utf8.count), 0x03, 0xEA] + Array(reason.utf8))
        // After the close frame: a half-close (RFC 6455 §7.1.7), the channel still open.
        #expect(spy.modes == [.output])
        #expect(channel.isActive)
        // Nothing more is read or written; the connection goes once the peer hangs up.
        try channel.writeInbound(ByteBuffer(bytes: Self.frame(0x81, length: 2)))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(throws: ChannelError.outputClosed) { try channel.writeOutbound(ByteBuffer(bytes: [0x81, 0])) }
        #expect(channel.isActive)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(spy.modes == [.output, .all])
        #expect(!channel.isActive)
    }

    @Test func goodFramesPassWholeEvenSplitByteByByte() throws {
        let good = Self.frame(0x81, length: 5) + Self.frame(0x01, length: 3) + Self.frame(0x80, length: 1)
            + Self.frame(0x89, length: 125) + Self.frame(0x8A) + Self.frame(0x88, length: 2)
        let channel = EmbeddedChannel(handler: WebSocketFrameGuard())
        for byte in good { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        var passed: [UInt8] = []
        while let buffer = try channel.readInbound(as: ByteBuffer.self) { passed += Array(buffer.readableBytesView) }
        #expect(passed == good)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
    }

    @Test func aViolationAfterGoodFramesIsCaughtAtItsHeader() throws {
        let (passed, answer, _) = try run(Self.frame(0x81, length: 130 - 5) + Self.frame(0x84))
        #expect(passed.isEmpty)                // the buffer holding the bad header is not passed on
        #expect(answer.prefix(4) == [0x88, 17, 0x03, 0xEA])
    }
}
