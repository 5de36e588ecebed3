import Foundation
import HallpassCore

/// "Your devices" (BCP 247 detect and remediate): the logged-in user's grants that still hold
/// tokens, newest first, two rows each; Enter asks to revoke the focused one, with Keep focused.
/// Client- and device-supplied text goes through `CellBuffer.field` / the sanitizer only.
extension Frame {
    mutating func drawDevices() {
        let list = state.deviceList
        var row = heading(strings.devicesTitle, row: top)
        if let revoked = list.revoked {
            buffer.text(strings.revokedNotice(TerminalText.sanitize(revoked)), x: margin, y: row, maxWidth: contentWidth, role: .success)
            row += 1
        } else if !compact {
            row = paragraph(strings.devicesHelp, row: row, maxRows: 2, role: .muted)
        }
        if !compact { row += 1 }
        guard !list.devices.isEmpty else {
            _ = paragraph(strings.devicesEmpty, row: row, maxRows: 2, role: .muted)
            return
        }
        if list.confirming, list.devices.indices.contains(list.focus) {
            let device = list.devices[list.focus]
            row = heading("? " + strings.revokeTitle(TerminalText.sanitize(device.clientName)), row: row, role: .danger)
            row = paragraph(strings.revokeBody, row: row, maxRows: max(1, bottom - row - 1))
            if !compact { row += 1 }
            buttons([(strings.keep, !list.confirmFocusRevoke, .text), (strings.revoke, list.confirmFocusRevoke, .danger)],
                    row: min(row, bottom))
            return
        }
        let perDevice = 2
        let visible = max(1, (bottom - row + 1) / perDevice)
        let first = min(max(0, list.focus - visible + 1), max(0, list.devices.count - visible))
        for (offset, index) in (first..<min(list.devices.count, first + visible)).enumerated() {
            let device = list.devices[index]
            let y = row + offset * perDevice
            let focused = index == list.focus
            buffer.text(focused ? ">" : " ", x: margin - 1, y: y, role: focused ? .focus : .text)
            let name = TerminalText.sanitize(device.clientName) + " (" + TerminalText.sanitize(device.clientID) + ")"
            let nameWidth = buffer.text(name, x: margin + 1, y: y, maxWidth: contentWidth - 1, role: focused ? .focus : .accent)
            let address = TerminalText.sanitize(device.deviceIP ?? "?")
            buffer.text("  " + address, x: margin + 1 + nameWidth, y: y, maxWidth: max(0, contentWidth - 1 - nameWidth), role: .muted)
            let approved = strings.deviceApproved(strings.secondsAgo(ago(device.approvedAt)))
                + (device.approvedVia.map { " (\(TerminalText.sanitize($0)))" } ?? "")
            let refreshed = device.lastRefresh.map { strings.deviceRefreshed(strings.secondsAgo(ago($0))) } ?? strings.deviceNeverRefreshed
            let details = [approved, refreshed, TerminalText.sanitize(device.scope), TerminalText.sanitize(device.userAgent ?? "")]
                .filter { !$0.isEmpty }.joined(separator: " · ")
            buffer.text(details, x: margin + 3, y: y + 1, maxWidth: contentWidth - 3, role: .muted)
        }
    }

    private func ago(_ unix: Int) -> Int { max(0, Int(state.now.timeIntervalSince1970) - unix) }
}
