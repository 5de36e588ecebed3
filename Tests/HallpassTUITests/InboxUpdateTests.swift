import Foundation
import HallpassCore
import Testing
@testable import HallpassTUI

/// The inbox's transitions (CIBA, ARCHITECTURE.md §4.9): followed by push (read once a second
/// without it), shown without taking the focus, opened with F4, decided through the consent screen.
@Suite struct InboxUpdateTests {
    static func waiting(_ message: String = "K7 on build-01", code: String = "QRST-VWXZ") -> PendingRequest {
        var request = Fixture.request
        request.userCode = code
        request.clientName = "Build box"
        request.backchannel = true
        request.bindingMessage = message
        return request
    }

    static func loggedIn() -> ConsentState {
        var s = Fixture.state()
        s.inboxEnabled = true
        _ = s.update(.loggedIn(Fixture.login))
        return s
    }

    @Test func withoutPushTheInboxIsReadOnceASecondAndNeverTwiceAtOnce() {
        var s = Self.loggedIn()
        #expect(s.update(.tick(Fixture.t0)) == [.watchInbox(session: "cs_test"), .listInbox(session: "cs_test")])
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(2))) == [])          // still reading
        _ = s.update(.inboxListed([]))
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(2.5))) == [.listInbox(session: "cs_test")])
        _ = s.update(.inboxFailed(.unreachable))
        #expect(s.unreachable == false && s.screen == .codeEntry)                // a background read fails quietly
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(2.75))) == [.listInbox(session: "cs_test")])   // and is tried again
        _ = s.update(.inboxListed([]))
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(3.5))) == [])
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(3.75))) == [.listInbox(session: "cs_test")])
        // Not before login, not while a code from the authenticator is awaited, not when disabled.
        var t = Fixture.state()
        t.inboxEnabled = true
        #expect(t.update(.tick(Fixture.t0)) == [])
        _ = t.update(.loggedIn(ConsentLogin(session: "cs_2", user: "carol", otpRequired: true)))
        #expect(t.update(.tick(Fixture.t0)) == [])
        var u = Fixture.loggedIn()
        #expect(u.update(.tick(Fixture.t0)) == [])
    }

    /// With the push socket live the inbox is read at each hint (at once, or right after a read
    /// under way) and every 30 s for safety; when the socket drops, every second again.
    @Test func withPushTheInboxIsReadAtEachHint() {
        var s = Self.loggedIn()
        _ = s.update(.tick(Fixture.t0))
        _ = s.update(.inboxListed([]))
        #expect(s.update(.inboxWatching(true)) == [])
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(0.5))) == [.listInbox(session: "cs_test")])   // what happened meanwhile
        _ = s.update(.inboxListed([]))
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(20))) == [])
        #expect(s.update(.inboxChanged) == [.listInbox(session: "cs_test")])
        #expect(s.update(.inboxChanged) == [])                                       // one read at a time…
        _ = s.update(.inboxListed([]))
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(20.5))) == [.listInbox(session: "cs_test")])  // …and one more after it
        _ = s.update(.inboxListed([Self.waiting()]))
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(50))) == [])
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(50.5))) == [.listInbox(session: "cs_test")])  // the 30 s safety read
        _ = s.update(.inboxListed([Self.waiting()]))
        _ = s.update(.inboxWatching(false))
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(51))) == [.listInbox(session: "cs_test")])
        _ = s.update(.inboxListed([Self.waiting()]))
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(52))) == [.listInbox(session: "cs_test")])
        // Logging out stops the watch; news for a session that is gone is ignored.
        let out = s.update(.key(.escape))
        #expect(out.contains(.unwatchInbox) && out.contains(.logout(session: "cs_test")))
        #expect(s.update(.inboxChanged) == [] && s.update(.inboxWatching(true)) == [] && s.inbox == ConsentState.Inbox())
    }

    /// Between reads, a request whose time ran out leaves the list (and the list screen, if it
    /// was the last), as the countdown beside it reaches zero.
    @Test func aRequestLeavesTheInboxWhenItsTimeRunsOut() {
        var s = Self.loggedIn()
        _ = s.update(.tick(Fixture.t0))
        var soon = Self.waiting()
        soon.expiresIn = 10
        _ = s.update(.inboxListed([soon]))
        _ = s.update(.inboxWatching(true))
        _ = s.update(.tick(Fixture.t0.addingTimeInterval(0.1)))
        _ = s.update(.inboxListed([soon]))                    // read at t0 + 0.1: 10 s left from then
        _ = s.update(.key(.function(4)))
        #expect(s.screen == .inbox)
        _ = s.update(.tick(Fixture.t0.addingTimeInterval(9.5)))
        #expect(s.inbox.requests.count == 1 && s.screen == .inbox)
        _ = s.update(.tick(Fixture.t0.addingTimeInterval(10.2)))
        #expect(s.inbox.requests.isEmpty && s.screen == .codeEntry)
    }

    @Test func aNewRequestIsABannerThatTakesNoFocusAndF4OpensIt() {
        var s = Self.loggedIn()
        Fixture.type("bcd", into: &s)
        _ = s.update(.tick(Fixture.t0))
        _ = s.update(.inboxListed([Self.waiting()]))
        #expect(s.screen == .codeEntry && s.code.letters == ["B", "C", "D"])
        let screen = ConsentView.render(s, strings: .english, width: 80, height: 24).lines.joined(separator: "\n")
        #expect(screen.contains("▶ Build box asks for you · F4: open") && screen.contains("Logged in as alice · 1 waiting"))
        _ = s.update(.key(.function(4)))
        #expect(s.screen == .inbox)
        #expect(s.update(.key(.enter)) == [.lookup(code: "QRST-VWXZ", session: "cs_test")])
        _ = s.update(.lookedUp(Self.waiting()))
        #expect(s.screen == .consent && s.review?.focus == .deny)
        let consent = ConsentView.render(s, strings: .english, width: 80, height: 24).lines.joined(separator: "\n")
        #expect(consent.contains("Check that your device shows: “K7 on build-01”"))
        #expect(consent.contains("A device asked for you by name"))
    }

    @Test func aRequestArrivingWhileAnotherIsOnScreenDoesNotStealIt() {
        var s = Self.loggedIn()
        for c in "bcdfghjk" { _ = s.update(.key(.character(c))) }
        _ = s.update(.key(.enter))
        _ = s.update(.lookedUp(Fixture.request))
        _ = s.update(.tick(Fixture.t0.addingTimeInterval(1)))
        _ = s.update(.inboxListed([Self.waiting()]))
        #expect(s.screen == .consent && s.review?.request.userCode == Fixture.request.userCode)
        #expect(s.inbox.requests.count == 1)
    }

    @Test func theInboxClosesWhenItEmptiesAndOpensByItselfOnlyWhenAsked() {
        var s = Self.loggedIn()
        _ = s.update(.tick(Fixture.t0))
        _ = s.update(.inboxListed([Self.waiting(), Self.waiting("second", code: "BBBB-CCCC")]))
        _ = s.update(.key(.function(4)))
        _ = s.update(.key(.down))
        #expect(s.inbox.focus == 1)
        _ = s.update(.tick(Fixture.t0.addingTimeInterval(1)))
        _ = s.update(.inboxListed([]))                       // decided elsewhere, or expired
        #expect(s.screen == .codeEntry && s.inbox.focus == 0)
        #expect(s.update(.key(.function(4))) == [] && s.screen == .codeEntry)   // nothing to open

        var asked = Fixture.state()
        asked.inboxEnabled = true
        asked.inbox.openWhenListed = true
        _ = asked.update(.loggedIn(Fixture.login))
        _ = asked.update(.tick(Fixture.t0))
        _ = asked.update(.inboxListed([Self.waiting()]))
        #expect(asked.screen == .inbox)
        _ = asked.update(.key(.escape))
        _ = asked.update(.tick(Fixture.t0.addingTimeInterval(1)))
        _ = asked.update(.inboxListed([Self.waiting()]))
        #expect(asked.screen == .codeEntry)                  // once only
        // Logging out forgets it.
        _ = asked.update(.key(.escape))
        #expect(asked.inbox == ConsentState.Inbox())
    }
}
