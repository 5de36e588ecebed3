import Foundation
import HallpassClient
import Synchronization
import Testing

/// A scripted server: answers each POST to the token endpoint with the next canned reply.
final class ScriptedTransport: HTTPTransport {
    let replies: Mutex<[(Int, String)]>
    let posts = Mutex<[[String: String]]>([])

    init(tokenReplies: [(Int, String)]) { replies = Mutex(tokenReplies) }

    func get(_ url: URL) async throws -> (Int, Data) {
        (200, Data(#"{"issuer":"http://s","device_authorization_endpoint":"http://s/da","token_endpoint":"http://s/token"}"#.utf8))
    }

    func postForm(_ url: URL, fields: [String: String]) async throws -> (Int, Data) {
        posts.withLock { $0.append(fields) }
        if url.path == "/da" {
            return (200, Data(#"{"device_code":"dc","user_code":"BCDF-GHJK","verification_uri":"http://s/device","expires_in":600,"interval":5}"#.utf8))
        }
        let next = replies.withLock { $0.isEmpty ? (500, "{}") : $0.removeFirst() }
        if next.0 == -1 { throw DeviceFlowError.transport("connection reset") }
        return (next.0, Data(next.1.utf8))
    }

    func postJSON(_ url: URL, body: Data, bearer: String?) async throws -> (Int, Data) { (404, Data()) }
}

/// Records the waits instead of sleeping.
final class SleepLog: Sendable {
    let waits = Mutex<[TimeInterval]>([])
    var sleep: @Sendable (TimeInterval) async throws -> Void { { s in self.waits.withLock { $0.append(s) } } }
}

@Suite struct DeviceFlowClientTests {
    static let pending = (400, #"{"error":"authorization_pending"}"#)
    static let slowDown = (400, #"{"error":"slow_down"}"#)
    static let token = (200, #"{"access_token":"at","token_type":"Bearer","expires_in":3600,"scope":"read"}"#)

    func client(_ transport: ScriptedTransport, _ log: SleepLog) -> DeviceFlowClient {
        DeviceFlowClient(server: URL(string: "http://s")!, clientID: "tv", transport: transport, sleep: log.sleep)
    }

    @Test func pollsAtTheIntervalAndAddsFiveOnEverySlowDown() async throws {
        let transport = ScriptedTransport(tokenReplies: [Self.pending, Self.slowDown, Self.pending, Self.slowDown, Self.token])
        let log = SleepLog()
        let flow = client(transport, log)
        let codes = try await flow.authorize(scope: "read")
        #expect(codes.user_code == "BCDF-GHJK")
        #expect(codes.tokenEndpoint == "http://s/token")
        let token = try await flow.waitForToken(codes)
        #expect(token.accessToken == "at")
        #expect(log.waits.withLock { $0 } == [5, 5, 10, 10, 15])
        let polls = transport.posts.withLock { $0 }.filter { $0["grant_type"] != nil }
        #expect(polls.count == 5)
        #expect(polls.allSatisfy { $0["device_code"] == "dc" && $0["client_id"] == "tv" })
    }

    @Test func deniedAndExpiredAreDistinctErrors() async throws {
        let log = SleepLog()
        let denied = client(ScriptedTransport(tokenReplies: [Self.pending, (400, #"{"error":"access_denied"}"#)]), log)
        await #expect(throws: DeviceFlowError.denied) { try await denied.waitForToken(try await denied.authorize(scope: nil)) }
        let expired = client(ScriptedTransport(tokenReplies: [(400, #"{"error":"expired_token"}"#)]), log)
        await #expect(throws: DeviceFlowError.expired) { try await expired.waitForToken(try await expired.authorize(scope: nil)) }
        let other = client(ScriptedTransport(tokenReplies: [(400, #"{"error":"invalid_grant","error_description":"used"}"#)]), log)
        await #expect(throws: DeviceFlowError.oauth("invalid_grant", "used")) { try await other.waitForToken(try await other.authorize(scope: nil)) }
    }

    @Test func aDroppedConnectionIsRetriedAtTheInterval() async throws {
        let log = SleepLog()
        let flow = client(ScriptedTransport(tokenReplies: [(-1, ""), Self.pending, Self.token]), log)
        let token = try await flow.waitForToken(try await flow.authorize(scope: nil))
        #expect(token.tokenType == "Bearer")
        #expect(log.waits.withLock { $0 } == [5, 5, 5])
    }

    @Test func aServerErrorWithoutOAuthBodyIsReported() async throws {
        let flow = client(ScriptedTransport(tokenReplies: [(502, "<html>bad gateway</html>")]), SleepLog())
        await #expect(throws: DeviceFlowError.badResponse("HTTP 502 without an OAuth error body")) {
            try await flow.waitForToken(try await flow.authorize(scope: nil))
        }
    }
}
