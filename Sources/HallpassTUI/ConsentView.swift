import Foundation
import HallpassCore

/// Draws a `ConsentState` into a `CellBuffer` (the `view` of model/update/view). Pure: the
/// same state, strings and size always give the same cells, which is what screen tests compare.
public enum ConsentView {
    public static let minimumWidth = 40
    public static let minimumHeight = 12

    public static func render(_ state: ConsentState, strings: Strings, width: Int, height: Int) -> CellBuffer {
        var buffer = CellBuffer(width: width, height: height)
        guard width >= minimumWidth, height >= minimumHeight else {
            buffer.paragraph(strings.tooSmall(minimumWidth, minimumHeight), x: 0, y: 0, maxWidth: width, maxRows: height, role: .danger)
            return buffer
        }
        var frame = Frame(buffer: buffer, strings: strings, state: state)
        frame.drawBars()
        switch state.screen {
        case .login: frame.drawLogin()
        case .codeEntry: frame.drawCodeEntry()
        case .consent: frame.drawConsent()
        case .denyConfirm: frame.drawDenyConfirm()
        case .result: frame.drawResult()
        case .devices: frame.drawDevices()
        case .secondFactor: frame.drawSecondFactor()
        case .authenticator: frame.drawAuthenticator()
        case .inbox: frame.drawInbox()
        }
        if state.showHelp { frame.drawHelp() }
        return frame.buffer
    }
}

/// One render pass: the buffer plus the layout every screen shares.
struct Frame {
    var buffer: CellBuffer
    let strings: Strings
    let state: ConsentState

    var width: Int { buffer.width }
    var height: Int { buffer.height }
    /// Small windows drop the spacing rows.
    var compact: Bool { height < 20 || width < 60 }
    var margin: Int { width >= 60 ? 2 : 1 }
    var contentWidth: Int { width - 2 * margin }
    /// First and last rows screens may use (between the title bar and the hint bar).
    var top: Int { compact ? 1 : 2 }
    var bottom: Int { height - 2 }

    init(buffer: CellBuffer, strings: Strings, state: ConsentState) {
        self.buffer = buffer
        self.strings = strings
        self.state = state
    }

    /// Title bar (or the unreachable banner in its place) and the key-hint bar.
    mutating func drawBars() {
        if state.unreachable {
            buffer.fillRow(0, role: .banner)
            let retry = state.retry == nil ? "" : "  " + strings.retry
            buffer.text(" " + strings.unreachable(state.serverName) + retry, x: 0, y: 0, role: .banner)
        } else {
            buffer.fillRow(0, role: .title)
            if compact, state.screen == .consent, let review = state.review {
                // Small windows: when it asked and the countdown live in the title bar, freeing rows.
                let asked = strings.secondsAgo(review.request.requestedSecondsAgo + Int(state.now.timeIntervalSince(review.receivedAt)))
                buffer.text(" " + strings.askedLabel + " " + asked, x: 0, y: 0, maxWidth: width / 2, role: .title)
                let left = strings.expiresLabel + " " + Strings.clock(Int(review.expiresAt.timeIntervalSince(state.now).rounded(.up))) + " "
                let w = min(DisplayWidth.of(left), width / 2)
                buffer.text(left, x: width - w, y: 0, maxWidth: w, role: .title)
                return drawHints()
            }
            buffer.text(" " + strings.appName + (state.kiosk ? " · kiosk" : ""), x: 0, y: 0, role: .title)
            if let session = state.session {
                let waiting = state.inbox.requests.isEmpty ? "" : " · " + strings.inbox.waiting(state.inbox.requests.count)
                let who = strings.loggedInAs(TerminalText.sanitize(session.user)) + waiting + " "
                let w = min(DisplayWidth.of(who), width / 2)
                buffer.text(who, x: width - w, y: 0, maxWidth: w, role: .title)
            }
        }
        drawHints()
    }

    private mutating func drawHints() {
        let hints: String
        switch state.busy {
        case .loggingIn: hints = strings.loggingIn
        case .lookingUp: hints = strings.lookingUp
        case .deciding: hints = strings.deciding
        case .loadingDevices: hints = strings.loadingDevices
        case .revoking: hints = strings.revoking
        case .checkingCode: hints = strings.secondFactor.checking
        case .enrolling: hints = strings.secondFactor.enrolling
        case nil: hints = hintLine()
        }
        buffer.text(" " + hints, x: 0, y: height - 1, role: state.busy == nil ? .muted : .accent)
    }

    /// Key hints, most important first; a narrow window drops the least important ones but
    /// always keeps the one that opens the full list.
    private func hintLine() -> String {
        let s = strings
        if state.showHelp { return s.closeHelp }
        var parts: [String]
        switch state.screen {
        case .login: parts = [s.hintSubmit, s.hintNextField, state.kiosk ? nil : s.hintQuit, s.hintKeysF1].compactMap { $0 }
        case .codeEntry: parts = [s.hintSubmit, s.hintDevices, s.hintLogOut, s.secondFactor.hintAuthenticator, s.hintKeys]
        case .secondFactor: parts = [s.hintSubmit, s.secondFactor.hintCancel, s.hintKeysF1]
        case .inbox: parts = [s.inbox.hintOpen, s.hintMove, s.hintBack, s.hintKeys]
        case .authenticator: parts = state.authenticator.recoveryCodes != nil ? [s.secondFactor.recoveryDone]
            : [s.hintSubmit, s.secondFactor.hintCancel, s.hintKeys]
        case .devices: parts = state.deviceList.confirming ? [s.hintChoose, s.hintBack, s.hintKeys]
            : [s.hintRevoke, s.hintMove, s.hintBack, s.hintKeys]
        case .consent: parts = [s.hintChoose, s.hintMove, s.hintToggle, s.hintBack, s.hintKeys]
        case .denyConfirm: parts = [s.hintChoose, s.hintBack, s.hintKeys]
        case .result: parts = [state.kiosk ? s.kioskNext : s.nextDevice, s.hintKeys]
        }
        var line = parts.joined(separator: " · ")
        while DisplayWidth.of(line) > width - 2, parts.count > 2 {
            parts.remove(at: parts.count - 2)
            line = parts.joined(separator: " · ")
        }
        return line
    }

    /// A heading line in `role`; returns the next free row.
    @discardableResult
    mutating func heading(_ text: String, row: Int, role: Role = .accent) -> Int {
        buffer.text(text, x: margin, y: row, maxWidth: contentWidth, role: role)
        return row + 1
    }

    /// Wrapped server text; returns the next free row.
    mutating func paragraph(_ text: String, row: Int, maxRows: Int, role: Role = .text) -> Int {
        guard maxRows > 0 else { return row }
        return row + buffer.paragraph(text, x: margin, y: row, maxWidth: contentWidth, maxRows: maxRows, role: role)
    }

    /// A labelled fixed-width field for untrusted text: `label [text      ]`.
    mutating func labelledField(_ label: String, _ untrusted: String, row: Int, labelWidth: Int, fieldWidth: Int? = nil) {
        buffer.text(label, x: margin, y: row, maxWidth: labelWidth - 1, role: .muted)
        let available = contentWidth - labelWidth - 2
        let w = min(fieldWidth ?? available, available)
        buffer.text("[", x: margin + labelWidth, y: row, role: .border)
        buffer.field(untrusted, x: margin + labelWidth + 1, y: row, width: w)
        buffer.text("]", x: margin + labelWidth + 1 + w, y: row, role: .border)
    }

    /// A row of buttons, the focused one marked `[>Name<]` as well as coloured.
    mutating func buttons(_ items: [(title: String, focused: Bool, role: Role)], row: Int) {
        var x = margin
        for item in items {
            let text = item.focused ? "[>\(item.title)<]" : "[ \(item.title) ]"
            x += buffer.text(text, x: x, y: row, maxWidth: width - margin - x, role: item.focused ? .focus : item.role) + 3
        }
    }

    mutating func drawHelp() {
        let lines = strings.helpLines
        let keyWidth = (lines.map { DisplayWidth.of($0.key) }.max() ?? 0) + 2
        let boxWidth = min(contentWidth, max(36, keyWidth + (lines.map { DisplayWidth.of($0.action) }.max() ?? 0) + 4))
        let boxHeight = min(height - 2, lines.count + 2)
        let x0 = (width - boxWidth) / 2
        let y0 = max(1, (height - boxHeight) / 2)
        for y in y0..<(y0 + boxHeight) {
            let edge = y == y0 || y == y0 + boxHeight - 1
            let left = y == y0 ? "┌" : y == y0 + boxHeight - 1 ? "└" : "│"
            let right = y == y0 ? "┐" : y == y0 + boxHeight - 1 ? "┘" : "│"
            buffer.fill(x: x0, y: y, count: boxWidth, role: .text)
            buffer.text(left + String(repeating: edge ? "─" : " ", count: boxWidth - 2) + right, x: x0, y: y, role: .border)
            if !edge { buffer.fill(x: x0 + 1, y: y, count: boxWidth - 2, role: .text) }
        }
        buffer.text(" " + strings.helpTitle + " ", x: x0 + 2, y: y0, maxWidth: boxWidth - 4, role: .accent)
        for (index, line) in lines.prefix(boxHeight - 2).enumerated() {
            let y = y0 + 1 + index
            buffer.text(line.key, x: x0 + 2, y: y, maxWidth: keyWidth, role: .key)
            buffer.text(line.action, x: x0 + 2 + keyWidth, y: y, maxWidth: boxWidth - keyWidth - 3, role: .text)
        }
    }
}
