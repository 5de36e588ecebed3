import Foundation

/// The inbox (CIBA, ARCHITECTURE.md §4.9): followed by push while someone is logged in (read at
/// each `inbox` hint, and every 30 s for safety; every second while the socket is down), shown
/// as a count and a banner, opened with F4; a request opened from it goes through the same
/// consent screen as a typed code (Deny focused), with its binding message prominent.
extension ConsentState {
    /// On a tick: start the push watch once; drop requests whose time ran out; read the inbox
    /// when news is pending or the interval has passed, and nothing is reading it.
    mutating func inboxTick() -> [ConsentEffect] {
        guard inboxEnabled, let session, !session.otpRequired else { return [] }
        var effects: [ConsentEffect] = []
        if !inbox.watching {
            inbox.watching = true
            effects.append(.watchInbox(session: session.session))
        }
        if let checkedAt = inbox.checkedAt {
            let elapsed = Int(now.timeIntervalSince(checkedAt))
            inbox.requests.removeAll { $0.expiresIn - elapsed <= 0 }
            inbox.focus = min(inbox.focus, max(0, inbox.requests.count - 1))
            if screen == .inbox, inbox.requests.isEmpty { screen = .codeEntry }
        }
        let interval = inbox.live ? Inbox.liveRefreshInterval : Inbox.refreshInterval
        if !inbox.refreshing, inbox.stale || inbox.checkedAt.map({ now.timeIntervalSince($0) >= interval }) ?? true {
            effects.append(readInbox(session.session))
        }
        return effects
    }

    private mutating func readInbox(_ session: String) -> ConsentEffect {
        inbox.refreshing = true
        inbox.stale = false
        inbox.checkedAt = now
        return .listInbox(session: session)
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
            inbox.stale = true
        case .inboxWatching(let live):
            guard inbox.watching else { return [] }
            inbox.live = live
            inbox.stale = true                                  // whatever happened meanwhile
        case .inboxChanged:
            guard inbox.watching, let session, !session.otpRequired else { return [] }
            if inbox.refreshing {
                inbox.stale = true
            } else {
                return [readInbox(session.session)]
            }
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
