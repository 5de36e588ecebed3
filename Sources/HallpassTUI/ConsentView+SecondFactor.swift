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
                buffer.text(code, x: margin + 2 + (index % columns) * 22, y: y, role: .text)
            }
            return
        }
        guard let enrolment = setup.enrolment else { return }
        var row = heading(words.enrolTitle, row: top)
        row = paragraph(words.enrolIntro, row: row, maxRows: 2, role: .muted)
        // The QR code in half blocks (two module rows per terminal row), when it fits beside
        // the rows still needed below it.
        let qrRows = (enrolment.qr.count + 1) / 2
        let qrWidth = enrolment.qr.first?.count ?? 0
        if qrWidth > 0, qrWidth <= contentWidth, row + qrRows + 5 <= bottom {
            for line in 0..<qrRows {
                var text = ""
                for x in 0..<qrWidth {
                    let upper = enrolment.qr[line * 2][x]
                    let lower = line * 2 + 1 < enrolment.qr.count ? enrolment.qr[line * 2 + 1][x] : false
                    text += upper ? (lower ? "█" : "▀") : (lower ? "▄" : " ")
                }
                buffer.text(text, x: margin, y: row + line, role: .qr)
            }
            row += qrRows
        } else {
            row = paragraph(words.enrolNoRoom, row: row, maxRows: 1, role: .accent)
        }
        let labelWidth = max(DisplayWidth.of(words.secretLabel), DisplayWidth.of(words.enrolCodeLabel)) + 2
        buffer.text(words.secretLabel, x: margin, y: row, maxWidth: labelWidth, role: .muted)
        buffer.text(CodePromptLayout.grouped(enrolment.secret), x: margin + labelWidth, y: row,
                    maxWidth: contentWidth - labelWidth, role: .accent)
        row += 2
        buffer.text(">" + words.enrolCodeLabel, x: margin - 1, y: row, maxWidth: labelWidth, role: .accent)
        let typed = setup.typed + (state.busy == nil ? "_" : "")
        buffer.text("[", x: margin + labelWidth, y: row, role: .border)
        buffer.text(typed, x: margin + labelWidth + 1, y: row, role: .focus)
        buffer.fill(x: margin + labelWidth + 1 + typed.count, y: row, count: max(0, 8 - typed.count), role: .focus)
        buffer.text("]", x: margin + labelWidth + 9, y: row, role: .border)
        row += 1
        if let notice = setup.notice, row <= bottom {
            _ = paragraph("✗ " + TerminalText.sanitize(notice), row: row, maxRows: bottom - row + 1, role: .danger)
        }
    }
}

enum CodePromptLayout {
    static let fieldWidth = 26

    /// `ABCD EFGH …`: a base32 secret in groups of four, for typing.
    static func grouped(_ secret: String) -> String {
        stride(from: 0, to: secret.count, by: 4).map { String(secret.dropFirst($0).prefix(4)) }.joined(separator: " ")
    }
}
