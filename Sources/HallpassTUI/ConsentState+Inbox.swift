import Foundation

/// The inbox (CIBA, ARCHITECTURE.md §4.9): read in the background while someone is logged in,
/// shown as a count and a banner, opened with F4; a request opened from it goes through the same
/// consent screen as a typed code (Deny focused), with its binding message prominent.
extension ConsentState {
    /// On a tick: read the inbox again when a second has passed and nothing is reading it.
    mutating func inboxTick() -> [ConsentEffect] {
        guard inboxEnabled, let session, !session.otpRequired, !inbox.refreshing else { return [] }
        if let checkedAt = inbox.checkedAt, now.timeIntervalSince(checkedAt) < Inbox.refreshInterval { return [] }
        inbox.refreshing = true
        inbox.checkedAt = now
        return [.listInbox(session: session.session)]
    }

    mutating func inboxMessage(_ message: ConsentMessage) -> [ConsentEffect] {
        switch message {
        case .inboxListed(let requests):
            inbox.refreshing = false
            guard session != nil else { return [] }
            inbox.requests = requests
            inbox.focus = min(inbox.focus, max(0, requests.count - 1))
            if inbox.openWhenListed, !requests.isEmpty, screen == .codeEntry, busy == nil {
                inbox.openWhenListed = false
                screen = .inbox
            }
            if screen == .inbox, requests.isEmpty { screen = .codeEntry }
        case .inboxFailed:
            // Background reads fail quietly; the next tick tries again, and a call the person
            // makes reports what is wrong.
            inbox.refreshing = false
        default:
            break
        }
        return []
    }

    /// F4 on code entry.
    mutating func openInbox() -> [ConsentEffect] {
        guard !inbox.requests.isEmpty else { return [] }
        inbox.focus = 0
        screen = .inbox
        return []
    }

    mutating func inboxKey(_ key: Key) -> [ConsentEffect] {
        let count = inbox.requests.count
        switch key {
        case .down, .tab:
            if count > 0 { inbox.focus = (inbox.focus + 1) % count }
        case .up, .backTab:
            if count > 0 { inbox.focus = (inbox.focus + count - 1) % count }
        case .enter:
            guard let session, inbox.requests.indices.contains(inbox.focus) else { return [] }
            let effect = ConsentEffect.lookup(code: inbox.requests[inbox.focus].userCode, session: session.session)
            busy = .lookingUp
            retry = effect
            return [effect]
        case .escape:
            screen = .codeEntry
        default:
            break
        }
        return []
    }
}
