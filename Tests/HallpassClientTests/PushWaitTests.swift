import Foundation
import HallpassCore
import HallpassClient
import Synchronization
import Testing

/// A push channel that answers after a pause, or drops its socket a number of times first.
final class ScriptedPush: PushChannel, Sendable {
    let drops: Mutex<Int>
    let delay: Duration
    let connects = Mutex(0)
    /// Each subscription frame sent, as JSON.
    let frames = Mutex<[String]>([])
    init(drops: Int = 0, after delay: Duration) {
        self.drops = Mutex(drops)
        self.delay = delay
    }
    func outcome(pushURI: String, subscription: some Encodable & Sendable) async throws -> GrantOutcome? {
        connects.withLock { $0 += 1 }
        let frame = String(decoding: try JSONEncoder().encode(subscription), as: UTF8.self)
        frames.withLock { $0.append(frame) }
        if drops.withLock({ d in defer { d -= 1 }; return d > 0 }) { return nil }
        try await Task.sleep(for: delay)
        return .approved
    }
}

@Suite struct PushWaitTests {
    static let codes: DeviceAuthorization = {
        let json = #"{"device_code":"dc","user_code":"BCDF-GHJK","verification_uri":"http://s/device","expires_in":600,"interval":5,"push_uri":"ws://s/oauth/device/push"}"#
        var codes = try! JSONDecoder().decode(DeviceAuthorization.self, from: Data(json.utf8))
        codes.tokenEndpoint = "http://s/token"
        return codes
    }()

    /// The wait between polls never ends on its own here: only the push can end it.
    @Test(.timeLimit(.minutes(1)))
    func aPushWakesTheWaitAndTheNextPollRedeemsAtOnce() async throws {
        let transport = ScriptedTransport(tokenReplies: [DeviceFlowClientTests.token])
        let waits = SleepLog()
        let flow = DeviceFlowClient(server: URL(string: "http://s")!, clientID: "tv", transport: transport) { seconds in
            waits.waits.withLock { $0.append(seconds) }
            try await Task.sleep(for: .seconds(3600))
        }
        let token = try await flow.waitForToken(Self.codes, push: ScriptedPush(after: .milliseconds(50)))
        #expect(token.accessToken == "at")
        #expect(waits.waits.withLock { $0 } == [5])             // one wait, cut short by the push
    }

    /// CIBA (ARCHITECTURE.md §4.9): a backchannel request follows its auth_req_id on the socket
    /// and redeems it with the ciba grant.
    @Test(.timeLimit(.minutes(1)))
    func aBackchannelRequestSubscribesWithItsAuthRequestID() async throws {
        var codes = Self.codes
        codes.backchannel = true
        let transport = ScriptedTransport(tokenReplies: [DeviceFlowClientTests.token])
        let push = ScriptedPush(after: .milliseconds(20))
        let flow = DeviceFlowClient(server: URL(string: "http://s")!, clientID: "tv", transport: transport) { _ in
            try await Task.sleep(for: .seconds(3600))
        }
        _ = try await flow.waitForToken(codes, push: push)
        #expect(push.frames.withLock { $0 } == [#"{"auth_req_id":"dc"}"#])
        let poll = try #require(transport.posts.withLock { $0 }.last)
        #expect(poll["grant_type"] == "urn:openid:params:grant-type:ciba" && poll["auth_req_id"] == "dc" && poll["device_code"] == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func droppedSocketsReconnectAndPollingContinuesUnderneath() async throws {
        let transport = ScriptedTransport(tokenReplies: [DeviceFlowClientTests.token])
        let push = ScriptedPush(drops: 2, after: .milliseconds(100))
        let flow = DeviceFlowClient(server: URL(string: "http://s")!, clientID: "tv", transport: transport) { _ in
            try await Task.sleep(for: .seconds(3600))
        }
        _ = try await flow.waitForToken(Self.codes, push: push)
        #expect(push.connects.withLock { $0 } == 3)
        #expect(push.frames.withLock { $0 } == Array(repeating: #"{"device_code":"dc"}"#, count: 3))
    }

    @Test func withoutAPushURIItOnlyPolls() async throws {
        var codes = Self.codes
        codes.push_uri = nil
        let log = SleepLog()
        let transport = ScriptedTransport(tokenReplies: [DeviceFlowClientTests.pending, DeviceFlowClientTests.token])
        let push = ScriptedPush(after: .zero)
        let flow = DeviceFlowClient(server: URL(string: "http://s")!, clientID: "tv", transport: transport, sleep: log.sleep)
        _ = try await flow.waitForToken(codes, push: push)
        #expect(push.connects.withLock { $0 } == 0)
        #expect(log.waits.withLock { $0 } == [5, 5])
    }

    @Test func theQRCodeAndTheBigCodeRender() throws {
        let qr = try #require(QRCode(encoding: "http://127.0.0.1:8080/device?user_code=BCDF-GHJK"))
        #expect(qr.size >= 21 && (qr.size - 17) % 4 == 0)
        // Finder patterns in three corners: a dark 7×7 ring around a light ring.
        for (x0, y0) in [(0, 0), (qr.size - 7, 0), (0, qr.size - 7)] {
            #expect((0..<7).allSatisfy { qr.isDark(x: x0 + $0, y: y0) && qr.isDark(x: x0, y: y0 + $0) })
            #expect(!qr.isDark(x: x0 + 1, y: y0 + 1) && qr.isDark(x: x0 + 3, y: y0 + 3))
        }
        let lines = qr.halfBlockLines(quietZone: 2, colour: false)
        #expect(lines.count == (qr.size + 4 + 1) / 2)
        #expect(lines.allSatisfy { $0.count == qr.width() })
        #expect(lines[1].hasPrefix("  █▀▀▀▀▀█"))
        let big = try #require(BigText.lines("BCDF-GHJK"))
        #expect(big.count == 5 && big.allSatisfy { $0.count == BigText.width("BCDF-GHJK") })
        #expect(BigText.lines("BCDA") == nil)
    }
}
