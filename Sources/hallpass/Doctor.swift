import ArgumentParser
import Foundation
import HallpassCore
import HallpassServer

/// `hallpass doctor` (issue 21): checks a setup before its users find what is wrong, and says
/// each finding in one line with its fix. Exits 1 when any finding is an error, 0 otherwise
/// (warnings included). It only reads: nothing is created, migrated or changed, so it is safe
/// against a running server and as any user (run it as the service's user to check that user's
/// access: `sudo -u hallpass hallpass doctor --config /etc/hallpass/hallpass.toml`).
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the configuration, database, keys, TLS, issuer and clock.",
        discussion: """
        One line per finding (ok, warning or error) with its fix; the exit status is 1 when any \
        finding is an error. Reads only: safe beside a running server.
        """)

    @OptionGroup var store: StoreOptions

    @Option(name: .customLong("timeout"), help: "Seconds to wait for the issuer and the database (default 5).")
    var timeout: Int = 5

    func validate() throws {
        guard (1...120).contains(timeout) else { throw ValidationError("--timeout is 1 to 120 seconds") }
    }

    func run() async throws {
        var findings: [SetupFinding] = []
        let source = store.config ?? ProcessInfo.processInfo.environment["HALLPASS_CONFIG"]
        let settings: ServerSettings
        do {
            settings = try store.serverSettings()
            try settings.validate()
            findings.append(.ok("configuration", source.map { "\($0) loads" } ?? "defaults (no configuration file)"))
        } catch {
            findings.append(SetupFinding(.error, "configuration", "\(error)", fix: "correct the setting named; README, Configuration, lists every key"))
            Self.report(findings)
            throw ExitCode(1)
        }
        findings += await DoctorChecks(settings: settings, now: Date(), timeout: timeout).all()
        Self.report(findings)
        if findings.contains(where: { $0.severity == .error }) { throw ExitCode(1) }
    }

    /// Each finding on its own line (through the sanitizer: it may quote a file or a server),
    /// then a count.
    static func report(_ findings: [SetupFinding]) {
        for finding in findings { writeOut(TerminalText.sanitize(finding.line)) }
        let errors = findings.filter { $0.severity == .error }.count
        let warnings = findings.filter { $0.severity == .warning }.count
        writeOut("hallpass doctor: \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
    }
}
