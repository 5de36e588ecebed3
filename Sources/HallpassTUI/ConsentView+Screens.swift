import Foundation
import HallpassCore

/// The login, code-entry, deny-confirmation and result screens.
extension Frame {
    mutating func drawLogin() {
        let form = state.login
        var row = heading(strings.loginTitle, row: top)
        row = paragraph(strings.loginIntro, row: row, maxRows: compact ? 2 : 3, role: .muted)
        if !compact { row += 1 }
        let labelWidth = max(DisplayWidth.of(strings.userName), DisplayWidth.of(strings.password)) + 3
        let fieldWidth = min(32, contentWidth - labelWidth - 2)
        for (field, label, value) in [(ConsentState.LoginForm.Field.name, strings.userName, TerminalText.sanitize(form.name)),
                                      (.password, strings.password, String(repeating: "•", count: form.password.count))] {
            let focused = form.focus == field && state.busy == nil
            buffer.text((focused ? ">" : " ") + label, x: margin - 1, y: row, maxWidth: labelWidth, role: focused ? .accent : .muted)
            buffer.text("[", x: margin + labelWidth, y: row, role: .border)
            // Show the end of a long value, and a cursor mark on the focused field.
            var shown = value + (focused ? "_" : "")
            while DisplayWidth.of(shown) > fieldWidth { shown.removeFirst() }
            buffer.text(shown, x: margin + labelWidth + 1, y: row, role: focused ? .focus : .field)
            buffer.fill(x: margin + labelWidth + 1 + DisplayWidth.of(shown), y: row, count: fieldWidth - DisplayWidth.of(shown),
                        role: focused ? .focus : .field)
            buffer.text("]", x: margin + labelWidth + 1 + fieldWidth, y: row, role: .border)
            row += 1
        }
        row += 1
        let notice: (String, Role)?
        switch form.notice {
        case .wrong: notice = ("✗ " + strings.loginWrong, .danger)
        case .empty: notice = ("! " + strings.loginEmpty, .danger)
        case .locked(let until):
            notice = ("✗ " + strings.loginLocked(Strings.clock(Int(until.timeIntervalSince(state.now).rounded(.up)))), .danger)
        case .sessionExpired: notice = (strings.sessionExpired, .accent)
        case .idle: notice = (strings.kioskIdle, .accent)
        case nil: notice = nil
        }
        if let notice { _ = paragraph(notice.0, row: row, maxRows: bottom - row + 1, role: notice.1) }
    }

    mutating func drawCodeEntry() {
        var row = heading(strings.codeTitle, row: top)
        row = paragraph(strings.codeHelp, row: row, maxRows: 2, role: .muted)
        row += 1
        // The code as typed so far, with placeholders: BCDF-GH__ .
        var slots = state.code.letters.map(String.init) + Array(repeating: "_", count: 8 - state.code.letters.count)
        slots.insert("-", at: 4)
        let text = " " + slots.joined() + " "
        buffer.text("[", x: margin, y: row, role: .border)
        buffer.text(text, x: margin + 1, y: row, role: .focus)
        buffer.text("]", x: margin + 1 + DisplayWidth.of(text), y: row, role: .border)
        row += 2
        switch state.code.notice {
        case .badCharacter(let c):
            let shown = "“" + TerminalText.sanitize(String(c)) + "”"
            _ = paragraph("✗ " + strings.codeBadCharacter(shown), row: row, maxRows: bottom - row + 1, role: .danger)
        case .incomplete: _ = paragraph("! " + strings.codeIncomplete, row: row, maxRows: bottom - row + 1, role: .danger)
        case nil: break
        }
        // CIBA: a request naming this person, said at the foot of the screen; never focused.
        if let first = state.inbox.requests.first, bottom - 1 > row {
            let banner = strings.inbox.banner(TerminalText.sanitize(first.clientName), state.inbox.requests.count - 1)
            buffer.text(banner, x: margin, y: bottom - 1, maxWidth: contentWidth, role: .accent)
        }
    }

    mutating func drawDenyConfirm() {
        guard let review = state.review else { return }
        var row = heading("? " + strings.denyTitle, row: top, role: .danger)
        if !compact { row += 1 }
        let labelWidth = labelColumn()
        labelledField(strings.clientNameLabel, review.request.clientName, row: row, labelWidth: labelWidth)
        labelledField(strings.clientIDLabel, review.request.clientID, row: row + 1, labelWidth: labelWidth)
        row += compact ? 2 : 3
        row = paragraph(strings.denyBody, row: row, maxRows: max(1, bottom - row - 1))
        if !compact { row += 1 }
        buttons([(strings.denyConfirm, review.confirmFocusYes, .danger), (strings.back, !review.confirmFocusYes, .text)],
                row: min(row, bottom))
    }

    mutating func drawResult() {
        guard let outcome = state.outcome else { return }
        let title: String
        let body: String
        let role: Role
        switch outcome {
        case .approved(let scopes):
            (title, role) = (strings.approvedTitle, .success)
            body = strings.approvedBody(scopes.isEmpty ? "—" : scopes.joined(separator: " "))
        case .denied: (title, body, role) = (strings.deniedTitle, strings.deniedBody, .danger)
        case .expired: (title, body, role) = (strings.expiredTitle, strings.expiredBody, .danger)
        case .alreadyUsed: (title, body, role) = (strings.alreadyUsedTitle, strings.alreadyUsedBody, .accent)
        case .decidedElsewhere(let approved):
            (title, body, role) = (strings.elsewhereTitle, approved ? strings.approvedElsewhere : strings.deniedElsewhere, .accent)
        case .invalid(let left):
            (title, role) = (strings.invalidTitle, .danger)
            body = left.map(strings.guessesLeft) ?? strings.expiredBody
        case .tooMany(let until):
            (title, role) = (strings.tooManyTitle, .danger)
            body = strings.tryAgainIn(Strings.clock(Int(until.timeIntervalSince(state.now).rounded(.up))))
        case .refused(let message):
            (title, body, role) = (strings.errorTitle, TerminalText.sanitize(message), .danger)
        }
        var row = heading(title, row: top, role: role)
        if !compact { row += 1 }
        _ = paragraph(body, row: row, maxRows: bottom - row + 1)
    }

    /// Width of the label column on the consent and deny screens.
    func labelColumn() -> Int {
        let labels = [strings.clientNameLabel, strings.clientIDLabel, strings.deviceIPLabel, strings.userAgentLabel,
                      strings.askedLabel, strings.expiresLabel, strings.browserIPLabel, strings.returnsToLabel]
        return min(contentWidth / 2, (labels.map(DisplayWidth.of).max() ?? 10) + 1)
    }
}
