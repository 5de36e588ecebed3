import Foundation
import HallpassCore
import Testing

/// `hallpass doctor`'s rules (issue 21).
struct SetupRuleTests {
    let now = Date(timeIntervalSince1970: 1_796_000_000)   // 2026-11-30T00:53:20Z
    let day: TimeInterval = 86_400

    @Test func secretFilesAreOwnerOnly() {
        #expect(SetupRules.secretFileMode(0o600, path: "/d/h.db", subject: "database").severity == .ok)
        #expect(SetupRules.secretFileMode(0o400, path: "/d/h.db", subject: "database").severity == .ok)
        let world = SetupRules.secretFileMode(0o644, path: "/d/h.db", subject: "database")
        #expect(world.severity == .error)
        #expect(world.message == "/d/h.db has mode 644: everyone can read or change it")
        #expect(world.fix == "chmod 600 /d/h.db")
        let group = SetupRules.secretFileMode(0o640, path: "/d/k", subject: "TLS key")
        #expect(group.severity == .error)
        #expect(group.message.contains("its group"))
        #expect(SetupRules.secretFileMode(0o602, path: "/d/k", subject: "x").severity == .error)
        // A TLS key certbot keeps as root:hallpass 0640 is read by the service through its group.
        #expect(SetupRules.secretFileMode(0o640, path: "/k", subject: "TLS key", groupMayRead: true).severity == .ok)
        let groupWrite = SetupRules.secretFileMode(0o660, path: "/k", subject: "TLS key", groupMayRead: true)
        #expect(groupWrite.severity == .error && groupWrite.message == "/k has mode 660: its group can change it")
        #expect(SetupRules.secretFileMode(0o644, path: "/k", subject: "TLS key", groupMayRead: true).severity == .error)
    }

    @Test func certificatesExpireAndWarnTwoWeeksAhead() {
        let path = "/etc/hallpass/cert.pem"
        let expired = SetupRules.certificateValidity(notBefore: now - 90 * day, notAfter: now - 1, now: now, path: path)
        #expect(expired.severity == .error)
        #expect(expired.message.hasPrefix("\(path) expired on 2026-11-30"))
        let atExpiry = SetupRules.certificateValidity(notBefore: now - 90 * day, notAfter: now, now: now, path: path)
        #expect(atExpiry.severity == .error)
        let soon = SetupRules.certificateValidity(notBefore: now - 80 * day, notAfter: now + 13 * day + 3600, now: now, path: path)
        #expect(soon.severity == .warning)
        #expect(soon.message.contains("expires in 13 days"))
        let fine = SetupRules.certificateValidity(notBefore: now - day, notAfter: now + 14 * day, now: now, path: path)
        #expect(fine.severity == .ok)
        let early = SetupRules.certificateValidity(notBefore: now + 60, notAfter: now + 90 * day, now: now, path: path)
        #expect(early.severity == .error)
        #expect(early.message.contains("not valid until"))
    }

    @Test func issuersAreHTTPSExceptOnLoopback() {
        #expect(SetupRules.issuerScheme(URL(string: "https://auth.example.com")!).severity == .ok)
        #expect(SetupRules.issuerScheme(URL(string: "http://127.0.0.1:8080")!).severity == .ok)
        #expect(SetupRules.issuerScheme(URL(string: "http://localhost:8080/t/acme")!).severity == .ok)
        #expect(SetupRules.issuerScheme(URL(string: "http://[::1]:8080")!).severity == .ok)
        let plain = SetupRules.issuerScheme(URL(string: "http://auth.example.com")!)
        #expect(plain.severity == .error)
        #expect(plain.message.contains("RFC 8414"))
        #expect(SetupRules.issuerScheme(URL(string: "http://127.example.com")!).severity == .error)
    }

    @Test func clocksAgreeWithinSecondsAndNeverPrecedeTheRelease() {
        #expect(SetupRules.clockSkew(local: now, remote: now - 2, remoteName: "PostgreSQL").severity == .ok)
        let warning = SetupRules.clockSkew(local: now, remote: now + 10, remoteName: "PostgreSQL")
        #expect(warning.severity == .warning)
        #expect(warning.message == "this host's clock is 10.0 s behind PostgreSQL")
        #expect(SetupRules.clockSkew(local: now, remote: now - 31, remoteName: "x").severity == .error)
        #expect(SetupRules.clockAfterRelease(now: Date(timeIntervalSince1970: 0), release: now).severity == .error)
        #expect(SetupRules.clockAfterRelease(now: now, release: now - day).severity == .ok)
    }

    @Test func aFindingIsOneLineWithItsFix() {
        let finding = SetupFinding(.error, "database", "/d/h.db has mode 644", fix: "chmod 600 /d/h.db")
        #expect(finding.line == "error    database: /d/h.db has mode 644 (fix: chmod 600 /d/h.db)")
        #expect(SetupFinding.ok("clock", "2026-11-29").line == "ok       clock: 2026-11-29")
        #expect(SetupFinding.Severity.warning < .error && SetupFinding.Severity.ok < .warning)
    }
}
