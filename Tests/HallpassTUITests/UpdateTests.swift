import Foundation
import HallpassCore
import Testing
@testable import HallpassTUI

/// `update` transitions, screen by screen: keys and answers in, state and effects out.
@Suite struct LoginUpdateTests {
    @Test func typingTabAndEnterLogsIn() {
        var s = Fixture.state()
        Fixture.type("alice", into: &s)
        #expect(s.update(.key(.enter)) == [])            // Enter on the name moves to the password
        #expect(s.login.focus == .password)
        Fixture.type("pw ?x", into: &s)                  // spaces and ? belong to passwords
        #expect(s.update(.key(.enter)) == [.login(user: "alice", password: "pw ?x")])
        #expect(s.busy == .loggingIn)
        #expect(s.update(.key(.character("z"))) == [])   // keys wait while busy
        #expect(s.update(.loggedIn(Fixture.login)) == [])
        #expect(s.screen == .codeEntry)
        #expect(s.login.password.isEmpty)
    }

    @Test func aSessionFromTheSSHFrontStartsOnCodeEntry() {
        var s = ConsentState(now: Fixture.t0, serverName: "h", session: Fixture.login)
        #expect(s.screen == .codeEntry && s.session == Fixture.login)
        Fixture.type("BCDFGHJK", into: &s)
        #expect(s.update(.key(.enter)) == [.lookup(code: "BCDFGHJK", session: Fixture.login.session)])
    }

    @Test func emptyFieldsAndWrongPasswordsSaySo() {
        var s = Fixture.state()
        _ = s.update(.key(.tab))
        #expect(s.update(.key(.enter)) == [])
        #expect(s.login.notice == .empty)
        _ = s.update(.key(.tab))
        Fixture.type("alice", into: &s)
        _ = s.update(.key(.tab))
        Fixture.type("nope", into: &s)
        _ = s.update(.key(.backspace))
        #expect(s.login.password == "nop")
        _ = s.update(.key(.enter))
        _ = s.update(.loginFailed(.wrongCredentials))
        #expect(s.login.notice == .wrong)
        #expect(s.login.password.isEmpty)
        #expect(s.screen == .login)
    }

    @Test func lockoutBlocksUntilItEnds() {
        var s = Fixture.state()
        Fixture.type("alice", into: &s)
        _ = s.update(.key(.tab))
        Fixture.type("x", into: &s)
        _ = s.update(.key(.enter))
        _ = s.update(.loginFailed(.loginLocked(retryAfter: 30)))
        #expect(s.login.notice == .locked(until: Fixture.t0.addingTimeInterval(30)))
        Fixture.type("y", into: &s)
        #expect(s.update(.key(.enter)) == [])
        _ = s.update(.tick(Fixture.t0.addingTimeInterval(31)))
        #expect(s.login.notice == nil)
        #expect(s.update(.key(.enter)) == [.login(user: "alice", password: "y")])
    }

    @Test func escapeQuitsOutsideAKioskAndClearsInsideOne() {
        var s = Fixture.state()
        #expect(s.update(.key(.escape)) == [.quit])
        var k = Fixture.state(kiosk: true)
        Fixture.type("bob", into: &k)
        #expect(k.update(.key(.escape)) == [])
        #expect(k.login.name.isEmpty)
        #expect(!k.finished)
    }

    @Test func unreachableServerShowsTheBannerAndEnterRetries() {
        var s = Fixture.state()
        Fixture.type("alice", into: &s)
        _ = s.update(.key(.tab))
        Fixture.type("pw", into: &s)
        _ = s.update(.key(.enter))
        _ = s.update(.loginFailed(.unreachable))
        #expect(s.unreachable)
        Fixture.type("pw", into: &s)
        #expect(s.update(.key(.enter)) == [.login(user: "alice", password: "pw")])
        #expect(!s.unreachable)
    }
}

@Suite struct CodeEntryUpdateTests {
    @Test func formatsAsYouTypeAndAcceptsPasteLowerCaseAndSpaces() {
        var s = Fixture.loggedIn()
        Fixture.type("bc df", into: &s)
        #expect(s.code.display == "BCDF")
        Fixture.type("-g", into: &s)
        #expect(s.code.display == "BCDF-G")
        Fixture.type("hjkLMN", into: &s)                 // a longer paste stops at 8 letters
        #expect(s.code.display == "BCDF-GHJK")
        _ = s.update(.key(.backspace))
        #expect(s.code.display == "BCDF-GHJ")
    }

    @Test func impossibleCharactersAreRejectedAtOnce() {
        var s = Fixture.loggedIn()
        Fixture.type("bc", into: &s)
        for c in ["a", "1", "e", "ß", "é"] as [Character] {
            _ = s.update(.key(.character(c)))
            #expect(s.code.notice == .badCharacter(c))
            #expect(s.code.letters.count == 2)
        }
        Fixture.type("d", into: &s)
        #expect(s.code.notice == nil)
    }

    @Test func enterNeedsEightLettersThenLooksUp() {
        var s = Fixture.loggedIn()
        Fixture.type("bcdfghj", into: &s)
        #expect(s.update(.key(.enter)) == [])
        #expect(s.code.notice == .incomplete)
        Fixture.type("k", into: &s)
        #expect(s.update(.key(.enter)) == [.lookup(code: "BCDFGHJK", session: "cs_test")])
        #expect(s.busy == .lookingUp)
    }

    @Test func wrongCodesShowGuessesLeftThenTheLockout() {
        var s = Fixture.loggedIn()
        Fixture.type("bcdfghjk", into: &s)
        _ = s.update(.key(.enter))
        _ = s.update(.lookupFailed(.invalidCode(guessesLeft: 4)))
        #expect(s.screen == .result)
        #expect(s.outcome == .invalid(guessesLeft: 4))
        _ = s.update(.key(.enter))
        #expect(s.screen == .codeEntry)
        #expect(s.code.letters.isEmpty)
        Fixture.type("bcdfghjk", into: &s)
        _ = s.update(.key(.enter))
        _ = s.update(.lookupFailed(.tooManyCodes(retryAfter: 900)))
        #expect(s.outcome == .tooMany(until: Fixture.t0.addingTimeInterval(900)))
    }

    @Test func escapeLogsOutAndAnExpiredSessionReturnsToLogin() {
        var s = Fixture.loggedIn()
        #expect(s.update(.key(.escape)) == [.unwatch, .logout(session: "cs_test")])
        #expect(s.screen == .login)
        #expect(s.login.name == "")
        var t = Fixture.loggedIn()
        Fixture.type("bcdfghjk", into: &t)
        _ = t.update(.key(.enter))
        #expect(t.update(.lookupFailed(.loginRequired)) == [.unwatch, .logout(session: "cs_test")])
        #expect(t.login.notice == .sessionExpired)
    }

    @Test func questionMarkShowsKeysAndControlRRetries() {
        var s = Fixture.loggedIn()
        _ = s.update(.key(.character("?")))
        #expect(s.showHelp)
        #expect(s.update(.key(.character("b"))) == [])
        _ = s.update(.key(.escape))
        #expect(!s.showHelp)
        Fixture.type("bcdfghjk", into: &s)
        _ = s.update(.key(.enter))
        _ = s.update(.lookupFailed(.unreachable))
        #expect(s.unreachable && s.busy == nil)
        #expect(s.update(.key(.control("r"))) == [.lookup(code: "BCDFGHJK", session: "cs_test")])
        #expect(s.busy == .lookingUp)
    }
}

@Suite struct ConsentUpdateTests {
    @Test func denyHasFocusFirstAndEnterAsksForConfirmation() {
        var s = Fixture.onConsent()
        #expect(s.screen == .consent)
        #expect(s.review?.focus == .deny)
        #expect(s.update(.key(.enter)) == [])
        #expect(s.screen == .denyConfirm)
        #expect(s.update(.key(.escape)) == [])
        #expect(s.screen == .consent)
        _ = s.update(.key(.enter))
        #expect(s.update(.key(.enter)) == [.deny(code: "BCDF-GHJK", session: "cs_test")])
        #expect(s.update(.decided(ConsentDecision(approved: false, scopes: []))) == [.unwatch])
        #expect(s.outcome == .denied)
    }

    @Test func denyConfirmationBackButton() {
        var s = Fixture.onConsent()
        _ = s.update(.key(.enter))
        _ = s.update(.key(.tab))
        #expect(s.review?.confirmFocusYes == false)
        #expect(s.update(.key(.enter)) == [])
        #expect(s.screen == .consent)
    }

    @Test func approvingASubsetSendsOnlyThoseScopes() {
        var s = Fixture.onConsent()
        _ = s.update(.key(.up))          // deny → write
        _ = s.update(.key(.character(" ")))
        _ = s.update(.key(.up))          // read
        _ = s.update(.key(.enter))       // Enter on a scope toggles too
        _ = s.update(.key(.right))
        #expect(s.review?.focus == .approve)
        #expect(s.update(.key(.enter)) == [.approve(code: "BCDF-GHJK", scopes: ["openid", "profile"], otp: nil, session: "cs_test")])
        _ = s.update(.decided(ConsentDecision(approved: true, scopes: ["openid", "profile"])))
        #expect(s.outcome == .approved(scopes: ["openid", "profile"]))
    }

    @Test func approveWithNothingSelectedIsRefusedOnScreen() {
        var s = Fixture.onConsent()
        _ = s.update(.key(.tab))         // deny → approve
        _ = s.update(.key(.tab))         // → openid
        for _ in 0..<4 { _ = s.update(.key(.character(" "))); _ = s.update(.key(.tab)) }
        #expect(s.review?.chosenScopes == [])
        #expect(s.review?.focus == .deny)
        _ = s.update(.key(.right))
        #expect(s.update(.key(.enter)) == [])
        #expect(s.review?.needsScope == true)
    }

    @Test func typingLettersNeverApproves() {
        var s = Fixture.onConsent()
        for c in "approve yes y a\t" { _ = s.update(.key(.character(c))) }
        #expect(s.screen == .consent)
        #expect(s.busy == nil)
    }

    @Test func countdownEndsInExpiredAndEscapeGoesBack() {
        var s = Fixture.onConsent()
        _ = s.update(.tick(Fixture.t0.addingTimeInterval(587)))
        #expect(s.screen == .consent)
        _ = s.update(.tick(Fixture.t0.addingTimeInterval(588)))
        #expect(s.outcome == .expired)
        var e = Fixture.onConsent()
        _ = e.update(.key(.escape))
        #expect(e.screen == .codeEntry)
        #expect(e.review == nil)
    }

    @Test func decidedElsewhereIsAlreadyUsed() {
        var s = Fixture.onConsent()
        _ = s.update(.key(.right))
        _ = s.update(.key(.enter))
        _ = s.update(.decisionFailed(.alreadyDecided))
        #expect(s.outcome == .alreadyUsed)
    }

    @Test func resultsReturnToCodeEntryOnAKeyOrAfterAWhile() {
        var s = Fixture.onConsent()
        _ = s.update(.key(.right))
        _ = s.update(.key(.enter))
        _ = s.update(.decided(ConsentDecision(approved: true, scopes: ["openid"])))
        _ = s.update(.tick(Fixture.t0.addingTimeInterval(7)))
        #expect(s.screen == .result)
        _ = s.update(.tick(Fixture.t0.addingTimeInterval(8)))
        #expect(s.screen == .codeEntry)
        #expect(s.session == Fixture.login)
    }
}

@Suite struct KioskUpdateTests {
    static func kioskOnConsent() -> ConsentState {
        var s = Fixture.state(kiosk: true)
        _ = s.update(.loggedIn(Fixture.login))
        Fixture.type("bcdfghjk", into: &s)
        _ = s.update(.key(.enter))
        _ = s.update(.lookedUp(Fixture.request))
        return s
    }

    @Test func signalKeysDoNothing() {
        var s = Self.kioskOnConsent()
        for c in ["c", "z", "\\", "d", "s", "q"] as [Character] {
            #expect(s.update(.key(.control(c))) == [])
        }
        #expect(s.screen == .consent && !s.finished)
        var normal = Fixture.onConsent()
        #expect(normal.update(.key(.control("c"))) == [.logout(session: "cs_test"), .quit])
    }

    @Test func afterADecisionTheScreenIsWipedAndThePersonLoggedOut() {
        var s = Self.kioskOnConsent()
        _ = s.update(.key(.enter))
        _ = s.update(.key(.enter))
        _ = s.update(.decided(ConsentDecision(approved: false, scopes: [])))
        #expect(s.update(.key(.enter)) == [.unwatch, .logout(session: "cs_test"), .wipeScreen])
        #expect(s.screen == .login)
        #expect(s.session == nil && s.login.name.isEmpty)
    }

    @Test func idleTimeoutReturnsToLogin() {
        var s = Self.kioskOnConsent()
        _ = s.update(.tick(Fixture.t0.addingTimeInterval(59)))
        #expect(s.screen == .consent)
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(60))) == [.unwatch, .logout(session: "cs_test"), .wipeScreen])
        #expect(s.screen == .login)
        #expect(s.login.notice == .idle)
        // An empty login screen stays as it is.
        #expect(s.update(.tick(Fixture.t0.addingTimeInterval(200))) == [])
    }
}

@Suite struct PushUpdateTests {
    @Test func theConsentScreenFollowsItsRequest() {
        var s = Fixture.loggedIn()
        Fixture.type("bcdfghjk", into: &s)
        _ = s.update(.key(.enter))
        #expect(s.update(.lookedUp(Fixture.request)) == [.watch(code: "BCDF-GHJK", session: "cs_test")])
        #expect(s.update(.key(.escape)) == [.unwatch])
    }

    @Test func newsFromElsewhereReplacesAStaleScreen() {
        for (update, outcome) in [(GrantOutcome.approved, ConsentState.Outcome.decidedElsewhere(approved: true)),
                                  (.denied, .decidedElsewhere(approved: false)), (.expired, .expired)] {
            var s = Fixture.onConsent()
            #expect(s.update(.requestUpdated(code: "BCDF-GHJK", update)) == [.unwatch])
            #expect(s.outcome == outcome)
            var confirming = Fixture.onConsent()
            _ = confirming.update(.key(.enter))
            _ = confirming.update(.requestUpdated(code: "BCDF-GHJK", update))
            #expect(confirming.outcome == outcome)
        }
    }

    @Test func newsAboutAnotherCodeOrOurOwnDecisionIsIgnored() {
        var s = Fixture.onConsent()
        #expect(s.update(.requestUpdated(code: "ZZZZ-ZZZZ", .approved)) == [])
        #expect(s.screen == .consent)
        _ = s.update(.key(.right))
        _ = s.update(.key(.enter))                      // our approval is in flight
        #expect(s.update(.requestUpdated(code: "BCDF-GHJK", .approved)) == [])
        _ = s.update(.decided(ConsentDecision(approved: true, scopes: ["openid"])))
        #expect(s.outcome == .approved(scopes: ["openid"]))
    }
}
