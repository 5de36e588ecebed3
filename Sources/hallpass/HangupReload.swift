import Foundation
import HallpassCore
import HallpassServer
import HallpassSettings
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import UnixSignals

/// SIGHUP (`systemctl reload hallpass`; issue 21): re-reads the TLS certificate and key, and the
/// configuration. The certificate and key apply to the next handshake, `theme` to the next SSH
/// session (each session's `hallpass approve` reads the theme files themselves); every other
/// changed key is named in the log as needing a restart. A reload that fails keeps what runs.
struct HangupReload: Service {
    let tls: TLSCertificateStore?
    /// The configured theme the SSH front hands to its sessions.
    let theme: NIOLockedValueBox<String?>
    /// The values in force at start, by key (`SettingsLoader.effective`).
    let started: [String: String]
    /// Reads the file, the environment and serve's flags again, as at start.
    let reread: @Sendable () throws -> (values: [String: String], theme: String?)
    let logger: Logger

    /// Keys a reload applies without a restart (`theme`), or that `serve` does not use
    /// (`language` is the local consent screen's).
    static let reloadable: Set<String> = ["theme", "language"]

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            reload()
        }
    }

    func reload() {
        if let tls {
            do {
                let expiry = try tls.reload()
                logger.notice("reloaded the TLS certificate \(tls.certificatePath) (valid until \(ISO8601DateFormatter().string(from: expiry)))")
            } catch {
                logger.error("kept the previous TLS certificate: \(TerminalText.sanitize(String(describing: error)))")
            }
        }
        let values: [String: String]
        do {
            let (read, newTheme) = try reread()
            values = read
            theme.withLockedValue { $0 = newTheme }
        } catch {
            logger.error("the configuration does not load, so a restart would fail; the running one stays: \(TerminalText.sanitize(String(describing: error)))")
            return
        }
        let changed = Set(values.keys).union(started.keys).filter { values[$0] != started[$0] }.sorted()
        let needRestart = changed.filter { !Self.reloadable.contains($0) }
        for key in needRestart {
            if key == "tls_cert" || key == "tls_key" {
                logger.warning("\(key) names another file now: restart hallpass to use it (the reload re-read the files it started with)")
            } else {
                logger.warning("\(key) changed: restart hallpass to apply it")
            }
        }
        logger.notice("reload done: theme \(theme.withLockedValue { $0 } ?? "default") for new SSH sessions; \(needRestart.isEmpty ? "nothing needs a restart" : "\(needRestart.count) change\(needRestart.count == 1 ? "" : "s") need a restart")")
    }
}
