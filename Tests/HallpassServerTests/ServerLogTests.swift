import Foundation
import HallpassCore
import HallpassServer
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import Testing

/// `log_format = "json"` and the access log (issue 21).
struct ServerLogTests {
    /// Lines written, for a test to read.
    final class Lines: Sendable {
        let box = NIOLockedValueBox<[String]>([])
        var sink: LogSink { LogSink { line in self.box.withLockedValue { $0.append(line) } } }
        var all: [String] { box.withLockedValue { $0 } }
        var objects: [[String: Any]] {
            all.map { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? ["unparsed": $0] }
        }
    }

    @Test func aJSONLineHasTimeLevelMessageAndTheMetadataAsFields() throws {
        let lines = Lines()
        var logger = Logger(label: "hallpass") { JSONLogHandler(label: $0, sink: lines.sink) }
        logger[metadataKey: "hb.request.id"] = "7f3a"
        logger.warning("a \"quoted\"\nline\u{1B}[31m", metadata: ["status": .stringConvertible(429), "duration_ms": .stringConvertible(1.25),
                                                                 "route": "/oauth/token", "flags": .array(["a", .stringConvertible(true)])])
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n"))
        #expect(line.dropLast().contains("\n") == false)
        #expect(!line.contains("\u{1B}"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "warning")
        #expect(object["message"] as? String == "a \"quoted\"\nline\u{1B}[31m")
        #expect(object["logger"] as? String == "hallpass")
        #expect(object["request_id"] as? String == "7f3a")
        #expect(object["hb.request.id"] == nil)
        #expect(object["status"] as? Int == 429)
        #expect(object["duration_ms"] as? Double == 1.25)
        #expect(object["route"] as? String == "/oauth/token")
        #expect((object["flags"] as? [Any])?.count == 2)
        let time = try #require(object["time"] as? String)
        #expect(time.count == 24 && time.hasSuffix("Z"))
        #expect(line.hasPrefix("{\"time\":"))
    }

    @Test func timestampsAreRFC3339UTCWithMilliseconds() {
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 1_796_000_000.1234)) == "2026-11-30T00:53:20.123Z")
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
    }

    @Test func theAccessLogHasOneLinePerRequestWithTheRouteNotTheTarget() async throws {
        let lines = Lines()
        let harness = try await Harness { $0.accessLog = true }
        let logger = Logger(label: "hallpass") { JSONLogHandler(label: $0, sink: lines.sink) }
        let app = try await buildApplication(server: harness.server, logger: logger)
        try await app.test(.router) { client in
            _ = try await client.form("/oauth/device_authorization", [("client_id", "tv"), ("scope", "openid read")])
            _ = try await client.form("/oauth/token", [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                                                       ("client_id", "tv"), ("device_code", "not-a-real-device-code-secret")])
            _ = try await client.raw("/nowhere?code=query-secret-123")
        }
        let requests = lines.objects.filter { $0["message"] as? String == "request" }
        #expect(requests.count == 3)
        #expect(requests.map { $0["route"] as? String } == ["/oauth/device_authorization", "/oauth/token", "unmatched"])
        #expect(requests.map { $0["status"] as? Int } == [200, 400, 404])
        #expect(requests.allSatisfy { $0["method"] as? String != nil && $0["client"] as? String != nil
                && ($0["duration_ms"] as? Double).map { $0 >= 0 } == true && ($0["request_id"] as? String)?.isEmpty == false })
        #expect(Set(requests.compactMap { $0["request_id"] as? String }).count == 3)
        let all = lines.all.joined()
        #expect(!all.contains("query-secret-123"))
        #expect(!all.contains("not-a-real-device-code-secret"))
    }

    @Test func withoutTheSettingThereIsNoAccessLog() async throws {
        let lines = Lines()
        let harness = try await Harness()
        let logger = Logger(label: "hallpass") { JSONLogHandler(label: $0, sink: lines.sink) }
        let app = try await buildApplication(server: harness.server, logger: logger)
        try await app.test(.router) { client in
            _ = try await client.form("/oauth/device_authorization", [("client_id", "tv")])
        }
        #expect(!lines.objects.contains { $0["message"] as? String == "request" })
    }
}
