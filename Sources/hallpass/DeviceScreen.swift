import Foundation
import HallpassClient
import HallpassCore
import HallpassTUI

/// What `hallpass login` shows while a device waits: the code (large on a terminal), a QR code
/// of the verification URI when it fits, the ways to approve, and a live countdown.
struct DeviceScreen {
    let codes: DeviceAuthorization
    let server: String
    let terminal: Bool
    let showQR: Bool

    static func columns() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    func announce() {
        let code = TerminalText.sanitize(codes.user_code)
        let uri = TerminalText.sanitize(codes.verification_uri)
        var lines = ["To approve this device, enter the code", ""]
        let width = terminal ? Self.columns() : 0
        if terminal, width >= BigText.width(code) + 4, let big = BigText.lines(code) {
            lines += big.map { "  " + $0 } + ["", "  (\(code))"]
        } else {
            lines.append("    \(code)")
        }
        lines.append("")
        if terminal, showQR, let complete = codes.verification_uri_complete,
           let qr = QRCode(encoding: complete), width >= qr.width() + 2 {
            lines.append("or scan it:")
            lines += qr.halfBlockLines().map { " " + $0 }
            lines.append("")
        }
        lines.append("with:  hallpass approve --server \(server)")
        if let ssh = codes.sshConsent { lines.append("or:    \(ssh.command)") }
        lines.append("(or see \(uri))")
        lines.append(terminal ? "" : "The code expires in \(codes.expires_in / 60) minutes. Waiting…")
        writeOut(lines.joined(separator: "\n"))
    }

    /// Rewrites one status line every second until cancelled.
    func startCountdown() -> Task<Void, Never> {
        let deadline = Date().addingTimeInterval(TimeInterval(codes.expires_in))
        return Task {
            while !Task.isCancelled {
                let left = max(0, Int(deadline.timeIntervalSinceNow.rounded(.up)))
                let text = "\r\u{1B}[KWaiting for approval… the code expires in \(Strings.clock(left))  (Ctrl-C cancels)"
                FileHandle.standardOutput.write(Data(text.utf8))
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// Ctrl-C while waiting: a clean line, then exit 130 (no stack trace, no half-drawn status).
final class CancelOnInterrupt: @unchecked Sendable {
    private let source: any DispatchSourceSignal

    init(terminal: Bool) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            FileHandle.standardError.write(Data(((terminal ? "\r\u{1B}[K" : "") + "hallpass: cancelled\n").utf8))
            exit(Login.cancelledExit)
        }
        source.resume()
    }

    func disarm() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}

/// Where and how the device's token is kept.
enum TokenFile {
    /// `$XDG_CONFIG_HOME/hallpass/token-CLIENT.json`, else `~/.config/hallpass/…`.
    static func defaultPath(clientID: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        let safe = clientID.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }
        return base + "/hallpass/token-" + String(safe) + ".json"
    }

    /// Writes `data` readable by the owner only: the directory 0700, the file 0600, created
    /// with that mode (never world-readable, not even for an instant).
    static func save(_ data: Data, to path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == data.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CLIError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        chmod(path, 0o600)
    }
}
