import Foundation
import HallpassCore

/// The inbox (CIBA, ARCHITECTURE.md §4.9): two rows per request, the focused one marked. Client
/// names, addresses and binding messages are client- or device-supplied: sanitized.
extension Frame {
    mutating func drawInbox() {
        let words = strings.inbox
        var row = heading(words.title, row: top)
        row = paragraph(words.help, row: row, maxRows: compact ? 1 : 2, role: .muted)
        if !compact { row += 1 }
        for (index, request) in state.inbox.requests.enumerated() {
            guard row + 1 <= bottom else { break }
            let focused = index == state.inbox.focus
            buffer.text(focused ? ">" : " ", x: margin - 1, y: row, role: focused ? .focus : .text)
            let name = TerminalText.sanitize(request.clientName)
            let nameWidth = buffer.text(name, x: margin + 1, y: row, maxWidth: contentWidth - 1, role: focused ? .focus : .accent)
            let left = Strings.clock(request.expiresIn - Int(state.now.timeIntervalSince(state.inbox.checkedAt ?? state.now)))
            let detail = "  " + TerminalText.sanitize(request.deviceIP) + " · " + strings.expiresLabel + " " + left
            buffer.text(detail, x: margin + 1 + nameWidth, y: row, maxWidth: max(0, contentWidth - 1 - nameWidth), role: .muted)
            if let message = request.bindingMessage {
                buffer.text(words.deviceShows(TerminalText.sanitize(message)), x: margin + 3, y: row + 1, maxWidth: contentWidth - 3, role: .text)
            }
            row += compact ? 2 : 3
        }
    }
}
