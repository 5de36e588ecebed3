import Foundation
import HallpassCore

/// The consent screen (RFC 8628 §5.4; OAuth cross-device security BCP §6): who is asking, from
/// where, for what, for how long; a warning; Deny focused first. Client- and device-supplied
/// text stays inside labelled fixed-width fields and cannot reach the server's rows or buttons.
extension Frame {
    mutating func drawConsent() {
        guard let review = state.review else { return }
        let request = review.request
        let labelWidth = labelColumn()
        let buttonRow = bottom
        let web = request.webSignIn
        let warning = request.proximity == .differentNetwork
            ? (compact ? strings.differentNetworkWarningShort : strings.differentNetworkWarning)
            : request.backchannel == true ? strings.inbox.askedByName
            : web == nil ? strings.phishingWarning : strings.webSignInWarning
        let warningRows = DisplayWidth.wrap(warning, to: contentWidth).count
        let warningRow = buttonRow - (compact ? 0 : 1) - warningRows - (review.needsScope ? 1 : 0)
            - (request.secondFactor == nil ? 0 : 1) - (request.bindingMessage == nil ? 0 : 1)

        var row = heading(web == nil ? strings.consentHeading : strings.webSignInHeading, row: top)
        if !compact { row += 1 }
        labelledField(strings.clientNameLabel, request.clientName, row: row, labelWidth: labelWidth)
        labelledField(strings.clientIDLabel, request.clientID, row: row + 1, labelWidth: labelWidth)
        row += 2
        if let web {
            labelledField(strings.returnsToLabel, web.redirectHost, row: row, labelWidth: labelWidth)
            row += 1
        }
        // With proximity to say, the field is as wide as the address, so the words fit beside it.
        let fullWidth = min(39, contentWidth - labelWidth - 2)
        let ipWidth = request.proximity == nil ? fullWidth
            : max(1, min(fullWidth, DisplayWidth.of(TerminalText.sanitize(request.deviceIP))))
        labelledField(web == nil ? strings.deviceIPLabel : strings.browserIPLabel, request.deviceIP, row: row, labelWidth: labelWidth,
                      fieldWidth: ipWidth)
        // BCP 247: where the device stands relative to the approver, right after its address.
        if let proximity = request.proximity {
            let x = margin + labelWidth + ipWidth + 3
            buffer.text(strings.proximityText(proximity), x: x, y: row, maxWidth: max(0, margin + contentWidth - x),
                        role: proximity == .differentNetwork ? .danger : .success)
        }
        labelledField(strings.userAgentLabel, request.userAgent, row: row + 1, labelWidth: labelWidth)
        row += 2
        let asked = strings.secondsAgo(request.requestedSecondsAgo + Int(state.now.timeIntervalSince(review.receivedAt)))
        let left = Strings.clock(Int(review.expiresAt.timeIntervalSince(state.now).rounded(.up)))
        if !compact {   // (small windows show both in the title bar)
            buffer.text(strings.askedLabel, x: margin, y: row, maxWidth: labelWidth - 1, role: .muted)
            buffer.text(asked, x: margin + labelWidth + 1, y: row, role: .text)
            buffer.text(strings.expiresLabel, x: margin, y: row + 1, maxWidth: labelWidth - 1, role: .muted)
            buffer.text(left, x: margin + labelWidth + 1, y: row + 1, role: .accent)
            row += 3
            row = heading(strings.scopesLabel, row: row, role: .text)
        }
        drawScopes(review, rows: row..<max(row + 1, warningRow - (compact ? 0 : 1)))

        var y = paragraph(warning, row: warningRow, maxRows: warningRows, role: .danger)
        // CIBA Core §7.1: the words the device shows too (client-supplied, checked at the request).
        if let message = request.bindingMessage {
            buffer.text(strings.inbox.checkDevice(TerminalText.sanitize(message)), x: margin, y: y, maxWidth: contentWidth, role: .accent)
            y += 1
        }
        // ARCHITECTURE.md §4.8: approving this needs a code from the authenticator (server's words).
        if let stepUp = request.secondFactor {
            buffer.text("⚿ " + TerminalText.sanitize(stepUp), x: margin, y: y, maxWidth: contentWidth, role: .accent)
            y += 1
        }
        if review.needsScope {
            buffer.text("! " + strings.selectOneScope, x: margin, y: y, maxWidth: contentWidth, role: .danger)
            y += 1
        }
        buttons([(strings.deny, review.focus == .deny, .danger), (strings.approve, review.focus == .approve, .success)],
                row: buttonRow)
    }

    /// The requested scopes as a checklist that scrolls to keep the focused one visible.
    private mutating func drawScopes(_ review: ConsentState.Review, rows: Range<Int>) {
        let scopes = review.request.scopes
        guard !scopes.isEmpty, !rows.isEmpty else { return }
        let nameWidth = min(max(8, scopes.map { DisplayWidth.of($0.name) }.max() ?? 8), contentWidth / 3)
        var visible = rows.count
        if scopes.count > visible { visible = max(1, visible - 1) }   // keep a row for "… N more"
        // One row only (a small window): it shows the focused scope, and "… N more" in place of
        // its description, so the person knows there is more to scroll to.
        let squeezed = rows.count == 1 && scopes.count > 1
        var first = 0
        if case .scope(let focused) = review.focus, focused >= visible { first = focused - visible + 1 }
        first = min(first, max(0, scopes.count - visible))
        for (offset, index) in (first..<min(scopes.count, first + visible)).enumerated() {
            let y = rows.lowerBound + offset
            let scope = scopes[index]
            let focused = review.focus == .scope(index)
            let box = (focused ? ">" : " ") + (review.selected[index] ? "[x] " : "[ ] ")
            buffer.text(box, x: margin - 1, y: y, role: focused ? .focus : .text)
            buffer.text(TerminalText.sanitize(scope.name), x: margin + 4, y: y, maxWidth: nameWidth, role: .accent)
            buffer.text(squeezed ? strings.moreScopes(scopes.count - 1) : TerminalText.sanitize(scope.description),
                        x: margin + 5 + nameWidth, y: y, maxWidth: contentWidth - nameWidth - 5,
                        role: squeezed || !review.selected[index] ? .muted : .text)
        }
        let hidden = scopes.count - visible
        if hidden > 0 && !squeezed {
            buffer.text(strings.moreScopes(hidden), x: margin + 4, y: rows.lowerBound + visible, maxWidth: contentWidth - 4, role: .muted)
        }
    }
}
