import Foundation
import HallpassCore

/// The code prompt and "Add an authenticator" (ARCHITECTURE.md §4.8). The server's words (why a
/// code is asked, what was wrong) are shown only through the sanitizer.
extension Frame {
    mutating func drawSecondFactor() {
        guard let prompt = state.codePrompt else { return }
        let words = strings.secondFactor
        let stepUp = prompt.purpose == .approval
        var row = heading(stepUp ? words.stepUpTitle : words.loginTitle, row: top, role: stepUp ? .danger : .accent)
        if let reason = prompt.reason {
            row = paragraph(TerminalText.sanitize(reason), row: row, maxRows: 2, role: .accent)
        }
        row = paragraph(stepUp ? words.stepUpIntro : words.loginIntro, row: row, maxRows: compact ? 2 : 3, role: .muted)
        if !compact { row += 1 }
        let label = words.codeLabel
        let labelWidth = DisplayWidth.of(label) + 2
        let fieldWidth = min(CodePromptLayout.fieldWidth, contentWidth - labelWidth - 2)
        buffer.text(">" + label, x: margin - 1, y: row, maxWidth: labelWidth, role: .accent)
        buffer.text("[", x: margin + labelWidth, y: row, role: .border)
        // Typed characters are the person's own, but a paste may hold anything: sanitized too.
        var shown = TerminalText.sanitize(prompt.typed) + (state.busy == nil ? "_" : "")
        while DisplayWidth.of(shown) > fieldWidth { shown.removeFirst() }
        buffer.text(shown, x: margin + labelWidth + 1, y: row, role: .focus)
        buffer.fill(x: margin + labelWidth + 1 + DisplayWidth.of(shown), y: row, count: fieldWidth - DisplayWidth.of(shown), role: .focus)
        buffer.text("]", x: margin + labelWidth + 1 + fieldWidth, y: row, role: .border)
        row += 2
        if let notice = prompt.notice {
            _ = paragraph("✗ " + TerminalText.sanitize(notice), row: row, maxRows: bottom - row + 1, role: .danger)
        }
    }

    mutating func drawAuthenticator() {
        let words = strings.secondFactor
        let setup = state.authenticator
        if let codes = setup.recoveryCodes {
            var row = heading(words.recoveryTitle, row: top, role: .success)
            row = paragraph(words.recoveryIntro, row: row, maxRows: 3, role: .accent)
            row += 1
            let columns = contentWidth >= 44 ? 2 : 1
            for (index, code) in codes.enumerated() {
                let y = row + index / columns
                guard y < bottom else { break }
                buffer.text(TerminalText.sanitize(code), x: margin + 2 + (index % columns) * 22, y: y, maxWidth: 21, role: .text)
            }
            return
        }
        guard let enrolment = setup.enrolment else { return }
        // The QR code in half blocks (two module rows per terminal row): beside the words when
        // the window is wide enough (an 80×24 terminal holds a version-5 code), above them when
        // it is tall enough, else the secret alone.
        let qrRows = (enrolment.qr.count + 1) / 2
        let qrWidth = enrolment.qr.first?.count ?? 0
        let columnWidth = contentWidth - qrWidth - 2
        if qrWidth > 0, columnWidth >= 28, qrRows <= bottom - 1 {
            drawQR(enrolment.qr, x: margin, y: 1)
            drawEnrolmentWords(enrolment, setup: setup, x: margin + qrWidth + 2, width: columnWidth, row: top, showIntro: true)
        } else if qrWidth > 0, qrWidth <= contentWidth, top + 2 + qrRows + 4 <= bottom {
            var row = heading(words.enrolTitle, row: top)
            row = paragraph(words.enrolIntro, row: row, maxRows: 1, role: .muted)
            drawQR(enrolment.qr, x: margin, y: row)
            drawEnrolmentWords(enrolment, setup: setup, x: margin, width: contentWidth, row: row + qrRows, showIntro: false)
        } else {
            var row = heading(words.enrolTitle, row: top)
            row = paragraph(words.enrolNoRoom, row: row, maxRows: 2, role: .accent)
            drawEnrolmentWords(enrolment, setup: setup, x: margin, width: contentWidth, row: row, showIntro: false)
        }
    }

    private mutating func drawQR(_ qr: [[Bool]], x: Int, y: Int) {
        for line in 0..<((qr.count + 1) / 2) {
            var text = ""
            for column in 0..<(qr.first?.count ?? 0) {
                let upper = qr[line * 2][column]
                let lower = line * 2 + 1 < qr.count ? qr[line * 2 + 1][column] : false
                text += upper ? (lower ? "█" : "▀") : (lower ? "▄" : " ")
            }
            buffer.text(text, x: x, y: y + line, role: .qr)
        }
    }

    /// The title and intro (beside the code), the secret in groups, the code field, the notice.
    private mutating func drawEnrolmentWords(_ enrolment: AuthenticatorEnrolment, setup: ConsentState.AuthenticatorSetup,
                                             x: Int, width: Int, row start: Int, showIntro: Bool) {
        let words = strings.secondFactor
        var row = start
        if showIntro {
            row += buffer.paragraph(words.enrolTitle, x: x, y: row, maxWidth: width, maxRows: 2, role: .accent)
            row += buffer.paragraph(words.enrolIntro, x: x, y: row, maxWidth: width, maxRows: 4, role: .muted) + 1
        }
        buffer.text(words.secretLabel, x: x, y: row, maxWidth: width, role: .muted)
        row += 1
        row += buffer.paragraph(AuthenticatorEnrolment.grouped(TerminalText.sanitize(enrolment.secret)), x: x, y: row, maxWidth: width, maxRows: 3, role: .accent)
        row += 1
        guard row <= bottom else { return }
        let label = words.enrolCodeLabel
        let labelWidth = DisplayWidth.of(label) + 2
        buffer.text(">" + label, x: x, y: row, maxWidth: labelWidth, role: .accent)
        let typed = setup.typed + (state.busy == nil ? "_" : "")
        buffer.text("[", x: x + labelWidth, y: row, role: .border)
        buffer.text(typed, x: x + labelWidth + 1, y: row, role: .focus)
        buffer.fill(x: x + labelWidth + 1 + typed.count, y: row, count: max(0, 8 - typed.count), role: .focus)
        buffer.text("]", x: x + labelWidth + 9, y: row, role: .border)
        row += 2
        if let notice = setup.notice, row <= bottom {
            buffer.paragraph("✗ " + TerminalText.sanitize(notice), x: x, y: row, maxWidth: width, maxRows: bottom - row + 1, role: .danger)
        }
    }
}

enum CodePromptLayout {
    static let fieldWidth = 26
}
