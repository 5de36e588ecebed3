import Foundation
import HallpassCore
@testable import HallpassServer
import HallpassStore
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

/// `PushSocketHandler` on a testing channel whose clock the test moves: the subscription
/// timeout, pings, expiry, shutdown and the closing handshake, without waiting in real time.
@Suite(.timeLimit(.minutes(1)))
struct PushSocketHandlerTests {
    let h: Harness
    let hub: DevicePushHub
    let channel = NIOAsyncTestingChannel()

    init() async throws {
        h = try await Harness()
        hub = h.server.pushHub()
        let session = PushSession(hub: hub, address: "127.0.0.1", forDevice: true)
        try await channel.pipeline.addHandler(PushSocketHandler(session: session, limits: PushLimits()))
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_000))
    }

    /// A pending grant in the store; returns its device code and id.
    func grant(code: String = "BCDFGHJK", lifetime: TimeInterval = 600) async throws -> (deviceCode: String, id: Int64) {
        let deviceCode = "device-code-\(code)"
        let grant = DeviceGrant(deviceCodeHash: SecretToken.hash(deviceCode), userCode: try UserCode(parsing: code),
                                clientID: "tv", requestedScopes: ScopeSet(["openid"]), createdAt: h.clock.now,
                                lifetime: lifetime, interval: 5, deviceIP: "127.0.0.1", userAgent: "test")
        guard case .inserted(let id) = try await h.store.insertGrant(grant) else { throw StoreError.corrupt("not inserted") }
        return (deviceCode, id)
    }

    func send(_ opcode: WebSocketOpcode, _ text: String = "") async throws {
        try await channel.writeInbound(WebSocketFrame(fin: true, opcode: opcode, data: ByteBuffer(string: text)))
    }

    func next() async throws -> WebSocketFrame {
        try await channel.waitForOutboundWrite(as: WebSocketFrame.self)
    }

    func nextText() async throws -> String {
        let frame = try await next()
        #expect(frame.opcode == .text)
        return String(buffer: frame.unmaskedData)
    }

    func nextClose() async throws -> (code: WebSocketErrorCode?, reason: String) {
        let frame = try await next()
        #expect(frame.opcode == .connectionClose)
        var data = frame.unmaskedData
        return (data.readWebSocketErrorCode(), data.readString(length: data.readableBytes) ?? "")
    }

    func subscribe(lifetime: TimeInterval = 600) async throws -> (deviceCode: String, id: Int64) {
        let g = try await grant(lifetime: lifetime)
        try await send(.text, "{\"device_code\":\"\(g.deviceCode)\"}")
        #expect(try await nextText() == "{\"event\":\"subscribed\",\"expires_in\":\(Int(lifetime))}")
        return g
    }

    @Test func aQuietSocketIsRefusedAfterTheSubscriptionTimeoutAndDroppedAfterTheCloseTimeout() async throws {
        await channel.testingEventLoop.advanceTime(by: .seconds(9))
        #expect(try await channel.readOutbound(as: WebSocketFrame.self) == nil)
        await channel.testingEventLoop.advanceTime(by: .seconds(1))
        let close = try await nextClose()
        #expect(close.code == .policyViolation && close.reason == "send the subscription as the first frame")
        #expect(channel.isActive)                               // waiting for the peer's close frame
        await channel.testingEventLoop.advanceTime(by: .seconds(5))
        try await channel.closeFuture.get()
    }

    @Test func aDecisionIsReadFromTheStoreNotTakenFromTheBus() async throws {
        let g = try await subscribe()
        // A bus event is a hint: "denied" while the store says pending delivers nothing.
        h.server.events.publish(GrantEvent(grantID: g.id, outcome: .denied))
        var approved = try #require(try await h.store.grant(deviceCodeHash: SecretToken.hash(g.deviceCode)))
        try approved.approve(by: 1, scopes: ScopeSet(["openid"]), at: h.clock.now)
        #expect(try await h.store.recordDecision(approved, at: h.clock.now))
        h.server.events.publish(GrantEvent(grantID: g.id, outcome: .approved))
        #expect(try await nextText() == "{\"event\":\"approved\"}")
        #expect(try await nextClose().code == .normalClosure)
        try await send(.connectionClose)                        // the peer answers; the server drops it
        try await channel.closeFuture.get()
    }

    @Test func expiryIsPushedWhenTheGrantRunsOut() async throws {
        _ = try await subscribe(lifetime: 15)                   // runs out before the first ping
        await channel.testingEventLoop.advanceTime(by: .seconds(14))
        #expect(try await channel.readOutbound(as: WebSocketFrame.self) == nil)
        h.clock.advance(by: 15)
        await channel.testingEventLoop.advanceTime(by: .seconds(2))
        #expect(try await nextText() == "{\"event\":\"expired\"}")
        #expect(try await nextClose().code == .normalClosure)
    }

    @Test func pingsAreSentAndASocketThatStopsAnsweringIsDropped() async throws {
        _ = try await subscribe()
        await channel.testingEventLoop.advanceTime(by: .seconds(20))
        #expect(try await next().opcode == .ping)
        try await send(.pong)
        await channel.testingEventLoop.advanceTime(by: .seconds(20))
        #expect(try await next().opcode == .ping)
        #expect(channel.isActive)
        await channel.testingEventLoop.advanceTime(by: .seconds(20))   // no pong this time
        try await channel.closeFuture.get()
    }

    @Test func thePeersPingsAreAnsweredAndItsCloseIsEchoed() async throws {
        try await send(.ping, "hi")
        let pong = try await next()
        #expect(pong.opcode == .pong && String(buffer: pong.unmaskedData) == "hi")
        var close = ByteBuffer()
        close.write(webSocketErrorCode: .goingAway)
        try await channel.writeInbound(WebSocketFrame(fin: true, opcode: .connectionClose, data: close))
        #expect(try await nextClose().code == .goingAway)
        try await channel.closeFuture.get()
    }

    @Test func aBinaryFirstFrameIsRefusedWithAReason() async throws {
        try await send(.binary, "{}")
        let close = try await nextClose()
        #expect(close.code == .unacceptableData && close.reason == "the first frame must be a JSON text frame")
    }

    @Test func anUnknownDeviceCodeIsRefused() async throws {
        try await send(.text, "{\"device_code\":\"never-issued\"}")
        let close = try await nextClose()
        #expect(close.code == .policyViolation && close.reason == "unknown device_code")
    }

    /// A backchannel request (CIBA) in the store, as `bc-authorize` makes one; its auth_req_id and id.
    func backchannelRequest() async throws -> (authRequestID: String, id: Int64) {
        let authRequestID = "auth-req-id-1"
        var grant = DeviceGrant(deviceCodeHash: SecretToken.hash(authRequestID), userCode: try UserCode(parsing: "MNPQRSTV"),
                                clientID: "tv", requestedScopes: ScopeSet(["openid"]), createdAt: h.clock.now,
                                lifetime: 300, interval: 5, deviceIP: "127.0.0.1", userAgent: "test")
        grant.loginHint = "alice"
        grant.backchannel = true
        guard case .inserted(let id) = try await h.store.insertGrant(grant) else { throw StoreError.corrupt("not inserted") }
        return (authRequestID, id)
    }

    @Test func aBackchannelRequestIsFollowedByItsAuthRequestID() async throws {
        let request = try await backchannelRequest()
        try await send(.text, "{\"auth_req_id\":\"\(request.authRequestID)\"}")
        #expect(try await nextText() == "{\"event\":\"subscribed\",\"expires_in\":300}")
        var denied = try #require(try await h.store.grant(deviceCodeHash: SecretToken.hash(request.authRequestID)))
        try denied.deny(by: 1, at: h.clock.now)
        #expect(try await h.store.recordDecision(denied, at: h.clock.now))
        h.server.events.publish(GrantEvent(grantID: request.id, outcome: .denied))
        #expect(try await nextText() == "{\"event\":\"denied\"}")
    }

    @Test func anAuthRequestIDIsNoDeviceCode() async throws {
        let request = try await backchannelRequest()
        try await send(.text, "{\"device_code\":\"\(request.authRequestID)\"}")
        let close = try await nextClose()
        #expect(close.code == .policyViolation && close.reason == "unknown device_code")
    }

    @Test func aDeviceCodeIsNoAuthRequestID() async throws {
        let g = try await grant()
        try await send(.text, "{\"auth_req_id\":\"\(g.deviceCode)\"}")
        let close = try await nextClose()
        #expect(close.code == .policyViolation && close.reason == "unknown auth_req_id")
    }

    /// CIBA (ARCHITECTURE.md §4.9): a screen's socket on its user's inbox says `inbox` at every
    /// hint for that user (not for others) and closes when the consent session ends.
    @Test func anApproversScreenHearsOfItsInboxUntilTheSessionEnds() async throws {
        let screen = NIOAsyncTestingChannel()
        var limits = PushLimits()
        limits.pingInterval = .hours(24)                         // no pings to answer while the clock jumps
        try await screen.pipeline.addHandler(PushSocketHandler(session: PushSession(hub: hub, address: "127.0.0.1", forDevice: false),
                                                               limits: limits))
        try await screen.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_001))
        func text() async throws -> String {
            let frame = try await screen.waitForOutboundWrite(as: WebSocketFrame.self)
            #expect(frame.opcode == .text)
            return String(buffer: frame.unmaskedData)
        }
        let login = try await h.server.consentDesk.login(name: "alice", password: Harness.alicePassword, source: "127.0.0.1")
        let lifetime = Int(login.session.expiresAt.timeIntervalSince(h.clock.now))
        try await screen.writeInbound(WebSocketFrame(fin: true, opcode: .text,
                                                     data: ByteBuffer(string: "{\"session\":\"\(login.token)\",\"watch\":\"inbox\"}")))
        #expect(try await text() == "{\"event\":\"subscribed\",\"expires_in\":\(lifetime)}")
        h.server.events.publishInbox(loginHint: "bob")
        h.server.events.publishInbox(loginHint: "alice")
        #expect(try await text() == "{\"event\":\"inbox\"}")
        #expect(try await screen.readOutbound(as: WebSocketFrame.self) == nil)     // bob's news is not hers
        h.server.events.publishInbox(loginHint: "alice")
        #expect(try await text() == "{\"event\":\"inbox\"}")
        await screen.testingEventLoop.advanceTime(by: .seconds(Int64(lifetime - 1)))
        #expect(try await screen.readOutbound(as: WebSocketFrame.self) == nil)
        await screen.testingEventLoop.advanceTime(by: .seconds(1))
        let frame = try await screen.waitForOutboundWrite(as: WebSocketFrame.self)
        #expect(frame.opcode == .connectionClose)
        var data = frame.unmaskedData
        #expect(data.readWebSocketErrorCode() == .normalClosure && data.readString(length: data.readableBytes) == "session expired")
    }

    @Test func anInboxWatchNeedsALiveSessionAndSaysWhatItWatches() async throws {
        for (frame, reason) in [("{\"session\":\"cs_nope\",\"watch\":\"inbox\"}", "log in first (no or expired session)"),
                                ("{\"session\":\"cs_nope\",\"watch\":\"grants\"}", "watch must be \"inbox\"")] {
            let screen = NIOAsyncTestingChannel()
            try await screen.pipeline.addHandler(PushSocketHandler(session: PushSession(hub: hub, address: "127.0.0.1", forDevice: false),
                                                                   limits: PushLimits()))
            try await screen.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_002))
            try await screen.writeInbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: frame)))
            let close = try await screen.waitForOutboundWrite(as: WebSocketFrame.self)
            var data = close.unmaskedData
            #expect(close.opcode == .connectionClose && data.readWebSocketErrorCode() != nil)
            #expect(data.readString(length: data.readableBytes) == reason)
        }
    }

    @Test func serverShutdownClosesWaitingSocketsWithGoingAway() async throws {
        _ = try await subscribe()
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        let close = try await nextClose()
        #expect(close.code == .goingAway && close.reason == "server shutting down")
    }

    @Test func aTextFrameThatIsNotUTF8FailsWith1007() async throws {
        try await channel.writeInbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: [0x7B, 0xC3, 0x28, 0x7D])))
        let close = try await nextClose()
        #expect(close.code == .dataInconsistentWithMessage && close.reason == "text frames must be UTF-8")
    }

    @Test func invalidUTF8AfterTheSubscriptionFailsToo() async throws {
        _ = try await subscribe()
        try await channel.writeInbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: [0xFF])))
        #expect(try await nextClose().code == .dataInconsistentWithMessage)
    }

    @Test func aClientThatHangsUpIsReleasedAtOnce() async throws {
        let g = try await subscribe()
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        try await channel.closeFuture.get()                     // no timer had to fire
        // Its grant slot is free again: both of the grant's slots can be taken, no third.
        #expect(hub.claim(grantID: g.id) && hub.claim(grantID: g.id))
        #expect(!hub.claim(grantID: g.id))
        hub.unclaim(grantID: g.id)
        hub.unclaim(grantID: g.id)
        let other = NIOAsyncTestingChannel()
        let session = PushSession(hub: hub, address: "127.0.0.1", forDevice: true)
        try await other.pipeline.addHandler(PushSocketHandler(session: session, limits: PushLimits()))
        try await other.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_001))
        try await other.writeInbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "{\"device_code\":\"\(g.deviceCode)\"}")))
        let frame = try await other.waitForOutboundWrite(as: WebSocketFrame.self)
        #expect(String(buffer: frame.unmaskedData).contains("subscribed"))
    }

    @Test func aClientThatHangsUpBeforeSubscribingIsReleasedAtOnce() async throws {
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        try await channel.closeFuture.get()
    }

    @Test(arguments: [
        ([0x03], WebSocketErrorCode.protocolError, "a close body of one byte"),
        ([0x03, 0xED], .protocolError, "close code 1005 may not be sent"),
        ([0x03, 0xEE], .protocolError, "close code 1006 may not be sent"),
        ([0x03, 0xF7], .protocolError, "close code 1015 may not be sent"),
        ([0x03, 0xE7], .protocolError, "close code 999 may not be sent"),
        ([0x07, 0xD0], .protocolError, "close code 2000 may not be sent"),
        ([0x03, 0xE8, 0xC3, 0x28], .dataInconsistentWithMessage, "close reasons must be UTF-8"),
    ] as [([UInt8], WebSocketErrorCode, String)])
    func aBadCloseBodyFailsTheConnection(body: [UInt8], code: WebSocketErrorCode, reason: String) async throws {
        try await channel.writeInbound(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer(bytes: body)))
        let close = try await nextClose()
        #expect(close.code == code && close.reason == reason)
    }

    @Test(arguments: [[0x0F, 0xA0], [0x03, 0xE8], []] as [[UInt8]])
    func aValidCloseIsEchoed(body: [UInt8]) async throws {
        try await channel.writeInbound(WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer(bytes: body)))
        let close = try await nextClose()
        #expect(close.code == (body.isEmpty ? .normalClosure : WebSocketErrorCode(codeNumber: Int(body[0]) << 8 | Int(body[1]))))
    }

    @Test func brokenFragmentationIsAProtocolErrorAndTooMuchIsTooLarge() async throws {
        let errors: [(NIOWebSocketFrameAggregator.Error, WebSocketErrorCode)] = [
            (.didReceiveFragmentBeforeReceivingTextOrBinaryFrame, .protocolError),
            (.receivedNewFrameWithoutFinishingPrevious, .protocolError),
            (.accumulatedFrameSizeIsTooLarge, .messageTooLarge),
        ]
        for (error, code) in errors {
            let other = NIOAsyncTestingChannel()
            let session = PushSession(hub: hub, address: "127.0.0.1", forDevice: true)
            try await other.pipeline.addHandler(PushSocketHandler(session: session, limits: PushLimits()))
            try await other.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40_002))
            other.pipeline.fireErrorCaught(error)
            let frame = try await other.waitForOutboundWrite(as: WebSocketFrame.self)
            var data = frame.unmaskedData
            #expect(frame.opcode == .connectionClose && data.readWebSocketErrorCode() == code, "\(error)")
        }
        // Anything else (TLS, I/O) closes without a frame.
        channel.pipeline.fireErrorCaught(ChannelError.ioOnClosedChannel)
        try await channel.closeFuture.get()
    }

    @Test func closeReasonsAreCutAtACharacterBoundary() {
        #expect(PushSocketHandler.clipped(String(repeating: "é", count: 100), toUTF8: 123).utf8.count == 122)
        #expect(PushSocketHandler.clipped("short", toUTF8: 123) == "short")
    }
}
