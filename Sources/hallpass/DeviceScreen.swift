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
