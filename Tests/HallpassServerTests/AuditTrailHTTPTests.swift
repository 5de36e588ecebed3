import Foundation
import HallpassCore
import HallpassServer
import Hummingbird
import HummingbirdTesting
import Testing

/// The audit trail (issue 17): each event of a device's life is one chained line, with who,
/// from where, which client and grant, and never a password, code, token or session.
@Suite struct AuditTrailHTTPTests {
    @Test func aDevicesLifeIsOneChainedLinePerEventAndNoSecret() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).jsonl").path
        let h = try await Harness(audit: try AuditTrail.open(path, clock: ManualClock()))
        let seen = SecretsSeen()
        try await h.test { client in
            _ = try await client.json("/consent/login", ["username": "alice", "password": "wrong password!"])
            let (deviceCode, userCode) = try await client.deviceAuthorization()
            let session = try await client.login()
            _ = try await client.json("/consent/lookup", ["user_code": "BBBB-BBBB"], bearer: session)
            #expect(try await client.approve(userCode, session: session).status == .ok)
            let token = try await client.poll(deviceCode)
            let refresh = try #require(token.string("refresh_token"))
            let rotated = try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", "tv")])
            _ = try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", "tv")])
            _ = try await client.form("/oauth/revoke", [("token", try #require(rotated.string("refresh_token"))), ("client_id", "tv")])
            seen.add([deviceCode, userCode, session, refresh, try #require(token.string("access_token"))])
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let lines = text.split(separator: "\n")
        let events = lines.compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            return "\(object["event"] ?? "")/\(object["outcome"] ?? "")"
        }
        #expect(events == ["login/failed", "login/ok", "wrong_code/failed", "decision/approved", "token_issued/ok", "refresh/ok",
                           "refresh_reuse/family_revoked", "revocation/ok"], "\(events)")
        #expect(AuditChain.verify(lines) == nil)
        for secret in seen.all + [Harness.alicePassword] { #expect(!text.contains(secret), "a secret reached the audit log") }
        #expect(text.contains("\"actor\":\"alice\"") && text.contains("\"client\":\"tv\""))
        // A restart continues the chain.
        let again = try AuditTrail.open(path, clock: ManualClock())
        again.record("login", outcome: "ok", actor: "bob")
        let more = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(more.count == lines.count + 1 && AuditChain.verify(more) == nil)
    }
}

final class SecretsSeen: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String] = []
    func add(_ more: [String]) { lock.withLock { values += more } }
    var all: [String] { lock.withLock { values } }
}

/// Opening a trail that is not whole: a torn last line stops the start; a last line without its
/// newline is ended before the next line.
@Suite struct AuditTrailFileTests {
    @Test func aTornLastLineStopsTheStartAndAMissingNewlineIsMended() throws {
        let dir = FileManager.default.temporaryDirectory
        let torn = dir.appendingPathComponent("audit-torn-\(UUID().uuidString).jsonl").path
        let first = AuditChain.line(["event": "login", "outcome": "ok"], seq: 1, prev: AuditChain.origin)
        try (first.line + "\n" + "{\"hash\":\"ab").write(toFile: torn, atomically: true, encoding: .utf8)
        #expect(throws: AuditTrail.OpenFailure.self) { try AuditTrail.open(torn) }
        let unended = dir.appendingPathComponent("audit-unended-\(UUID().uuidString).jsonl").path
        try first.line.write(toFile: unended, atomically: true, encoding: .utf8)
        try AuditTrail.open(unended, clock: ManualClock()).record("login", outcome: "failed", actor: "bob")
        let lines = try String(contentsOfFile: unended, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && AuditChain.verify(lines) == nil)
    }
}

/// Two writers on one file (the server and `hallpass grants revoke`): one chain, in order.
@Suite struct AuditTrailSharedTests {
    @Test func twoWritersKeepOneChain() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-shared-\(UUID().uuidString).jsonl").path
        let server = try AuditTrail.open(path, clock: ManualClock())
        server.record("login", outcome: "ok", actor: "alice")
        let admin = try AuditTrail.open(path, clock: ManualClock())
        for n in 0..<20 {
            (n % 3 == 0 ? admin : server).record("revocation", outcome: "ok", actor: n % 3 == 0 ? "root" : "alice", grant: "fam_\(n)")
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 21)
        #expect(AuditChain.verify(lines) == nil)
    }
}
