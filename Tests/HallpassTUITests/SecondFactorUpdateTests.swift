import Foundation
import HallpassCore
import Testing
@testable import HallpassTUI

/// The second factor's transitions (ARCHITECTURE.md §4.8), without I/O.
@Suite struct SecondFactorUpdateTests {
    @Test func aLoginThatWaitsForACodeAsksForItAndThenLooksUpTheCode() {
        var s = ConsentState(now: Fixture.t0, serverName: "x", code: "BCDF-GHJK")
        Fixture.type("carol", into: &s)
        _ = s.update(.key(.tab))
        Fixture.type("pw", into: &s)
        _ = s.update(.key(.enter))
        #expect(s.update(.loggedIn(ConsentLogin(session: "cs_1", user: "carol", otpRequired: true))) == [])
        #expect(s.screen == .secondFactor && s.codePrompt?.purpose == .login)
        #expect(s.update(.key(.enter)) == [])   // nothing typed: nothing sent
        Fixture.type("12x4-56", into: &s)
        #expect(s.codePrompt?.typed == "12x4-56")
        #expect(s.update(.key(.enter)) == [.verifyCode(code: "12x4-56", session: "cs_1")])
        #expect(s.busy == .checkingCode)
        _ = s.update(.codeFailed(.wrongCode("wrong code")))
        #expect(s.screen == .secondFactor && s.codePrompt?.notice == "wrong code" && s.codePrompt?.typed == "")
        Fixture.type("123456", into: &s)
        _ = s.update(.key(.enter))
        #expect(s.update(.codeVerified) == [.lookup(code: "BCDFGHJK", session: "cs_1")])
        #expect(s.codePrompt == nil && s.session?.otpRequired == false)
    }

    @Test func escapeOnTheLoginCodeLogsOutAndALockoutReturnsToLogin() {
        var s = Fixture.state()
        _ = s.update(.loggedIn(ConsentLogin(session: "cs_1", user: "carol", otpRequired: true)))
        #expect(s.update(.key(.escape)) == [.unwatch, .logout(session: "cs_1")])
        #expect(s.screen == .login && s.session == nil)
        _ = s.update(.loggedIn(ConsentLogin(session: "cs_2", user: "carol", otpRequired: true)))
        Fixture.type("000000", into: &s)
        _ = s.update(.key(.enter))
        #expect(s.update(.codeFailed(.loginLocked(retryAfter: 300))) == [.unwatch, .logout(session: "cs_2")])
        #expect(s.screen == .login && s.login.notice == .locked(until: Fixture.t0.addingTimeInterval(300)))
    }

    @Test func aSessionHandedOverWaitingForACodeOpensOnThePrompt() {
        let s = ConsentState(now: Fixture.t0, serverName: "x", session: ConsentLogin(session: "cs_ssh", user: "alice", otpRequired: true))
        #expect(s.screen == .secondFactor && s.codePrompt?.purpose == .login)
        // And a lookup refused for want of the code (a server that changed its mind) asks for it too.
        var t = Fixture.loggedIn()
        Fixture.type("bcdfghjk", into: &t)
        _ = t.update(.key(.enter))
        _ = t.update(.lookupFailed(.codeRequired("enter the code from your authenticator app to finish logging in")))
        #expect(t.screen == .secondFactor && t.codePrompt?.purpose == .login)
    }

    @Test func aStepUpApprovalAsksForAFreshCodeAndEscapeDecidesNothing() {
        var s = Fixture.onConsent()
        _ = s.update(.key(.right))
        #expect(s.update(.key(.enter)) == [.approve(code: "BCDF-GHJK", scopes: ["openid", "profile", "read", "write"], otp: nil, session: "cs_test")])
        #expect(s.update(.decisionFailed(.codeRequired("write needs a fresh code"))) == [])
        #expect(s.screen == .secondFactor && s.codePrompt == ConsentState.CodePrompt(purpose: .approval, reason: "write needs a fresh code"))
        #expect(s.update(.key(.escape)) == [])
        #expect(s.screen == .consent && s.codePrompt == nil && s.review != nil)
        _ = s.update(.key(.enter))
        _ = s.update(.decisionFailed(.codeRequired("write needs a fresh code")))
        Fixture.type("654321", into: &s)
        #expect(s.update(.key(.enter)) == [.approve(code: "BCDF-GHJK", scopes: ["openid", "profile", "read", "write"], otp: "654321",
                                                    session: "cs_test")])
        _ = s.update(.decisionFailed(.wrongCode("wrong code")))
        #expect(s.screen == .secondFactor && s.codePrompt?.notice == "wrong code")
        Fixture.type("123456", into: &s)
        _ = s.update(.key(.enter))
        #expect(s.update(.decided(ConsentDecision(approved: true, scopes: ["read", "write"]))) == [.unwatch])
        #expect(s.outcome == .approved(scopes: ["read", "write"]))
    }

    @Test func aStepUpPromptEndsWithItsRequest() {
        var s = Fixture.onConsent()
        _ = s.update(.key(.right))
        _ = s.update(.key(.enter))
        _ = s.update(.decisionFailed(.codeRequired("write needs a fresh code")))
        #expect(s.update(.requestUpdated(code: "BCDF-GHJK", .denied)) == [.unwatch])
        #expect(s.outcome == .decidedElsewhere(approved: false) && s.codePrompt == nil)
        var t = Fixture.onConsent()
        _ = t.update(.key(.right))
        _ = t.update(.key(.enter))
        _ = t.update(.decisionFailed(.codeRequired("write needs a fresh code")))
        #expect(t.update(.tick(Fixture.t0.addingTimeInterval(600))) == [.unwatch])
        #expect(t.outcome == .expired)
    }

    @Test func addingAnAuthenticatorShowsTheRecoveryCodesOnceThenForgetsThem() {
        var s = Fixture.loggedIn()
        #expect(s.update(.key(.function(3))) == [.enrollAuthenticator(session: "cs_test")])
        _ = s.update(.enrolmentStarted(Fixture.enrolment))
        #expect(s.screen == .authenticator)
        Fixture.type("12a3", into: &s)
        #expect(s.authenticator.typed == "123")   // digits only
        #expect(s.update(.key(.enter)) == [])     // six needed
        Fixture.type("456", into: &s)
        #expect(s.update(.key(.enter)) == [.confirmAuthenticator(code: "123456", session: "cs_test")])
        _ = s.update(.enrolmentFailed(.wrongCode("that code does not match")))
        #expect(s.screen == .authenticator && s.authenticator.notice == "that code does not match" && s.authenticator.typed.isEmpty)
        Fixture.type("123456", into: &s)
        _ = s.update(.key(.enter))
        _ = s.update(.enrolmentConfirmed(recoveryCodes: ["a", "b"]))
        #expect(s.authenticator.recoveryCodes == ["a", "b"])
        _ = s.update(.key(.character("x")))
        #expect(s.screen == .authenticator)
        _ = s.update(.key(.enter))
        #expect(s.screen == .codeEntry && s.authenticator == ConsentState.AuthenticatorSetup())
        // An enrolment refused (one is confirmed already) says why.
        _ = s.update(.key(.function(3)))
        _ = s.update(.enrolmentFailed(.refused("an authenticator is already confirmed for this user")))
        #expect(s.outcome == .refused("an authenticator is already confirmed for this user"))
    }

    @Test func aKioskForgetsTheEnrolmentWithEverythingElse() {
        var s = ConsentState(now: Fixture.t0, serverName: "x", kiosk: true)
        _ = s.update(.loggedIn(Fixture.login))
        _ = s.update(.key(.function(3)))
        _ = s.update(.enrolmentStarted(Fixture.enrolment))
        _ = s.update(.tick(Fixture.t0.addingTimeInterval(61)))
        #expect(s.screen == .login && s.authenticator == ConsentState.AuthenticatorSetup() && s.session == nil)
    }
}
