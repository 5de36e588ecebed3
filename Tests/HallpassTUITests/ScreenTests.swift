import Foundation
import HallpassCore
import Testing
@testable import HallpassTUI

/// Every screen rendered into a `CellBuffer` at 80×24 and 40×12, in English and Chinese, and
/// compared as text and colour roles with the files in Screens/ (ratatui-style buffer tests).
@Suite struct ScreenTests {
    static let sizes = [(80, 24), (40, 12)]

    static func screens() -> [(String, ConsentState)] {
        var list: [(String, ConsentState)] = []
        list.append(("login", Fixture.state()))
        var wrong = Fixture.state()
        Fixture.type("alice", into: &wrong)
        _ = wrong.update(.key(.tab))
        Fixture.type("secret", into: &wrong)
        _ = wrong.update(.key(.enter))
        _ = wrong.update(.loginFailed(.wrongCredentials))
        list.append(("login-wrong", wrong))
        var locked = wrong
        _ = locked.update(.loginFailed(.loginLocked(retryAfter: 299)))
        list.append(("login-locked", locked))
        var code = Fixture.loggedIn()
        Fixture.type("bcd", into: &code)
        _ = code.update(.key(.character("1")))
        list.append(("code-bad-character", code))
        var partial = Fixture.loggedIn()
        Fixture.type("bcdf-gh", into: &partial)
        list.append(("code-partial", partial))
        list.append(("consent", Fixture.onConsent()))
        var web = Fixture.request
        web.webSignIn = PendingRequest.WebSignIn(redirectHost: "wiki.example.com")
        web.deviceIP = "198.51.100.23"
        web.userAgent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0"
        list.append(("consent-web-sign-in", Fixture.onConsent(web)))
        // "Your devices": a list (the second focused), the revoke confirmation, nothing at all.
        var devices = Fixture.loggedIn()
        _ = devices.update(.key(.tab))
        _ = devices.update(.devicesListed(Fixture.devices))
        _ = devices.update(.key(.down))
        list.append(("devices", devices))
        var confirmRevoke = devices
        _ = confirmRevoke.update(.key(.enter))
        list.append(("devices-revoke-confirm", confirmRevoke))
        var none = Fixture.loggedIn()
        _ = none.update(.key(.tab))
        _ = none.update(.devicesListed([]))
        list.append(("devices-empty", none))
        // BCP 247: the device asked from another network than the approver's (danger) or the same.
        var far = Fixture.request
        far.proximity = .differentNetwork
        list.append(("consent-different-network", Fixture.onConsent(far)))
        var near = Fixture.request
        near.proximity = .sameNetwork
        list.append(("consent-same-network", Fixture.onConsent(near)))
        var toggled = Fixture.onConsent()
        _ = toggled.update(.key(.up))
        _ = toggled.update(.key(.character(" ")))
        list.append(("consent-write-off", toggled))
        var confirm = Fixture.onConsent()
        _ = confirm.update(.key(.enter))
        list.append(("deny-confirm", confirm))
        var approved = Fixture.onConsent()
        _ = approved.update(.key(.right))
        _ = approved.update(.key(.enter))
        _ = approved.update(.decided(ConsentDecision(approved: true, scopes: ["openid", "profile", "read", "write"])))
        list.append(("result-approved", approved))
        var invalid = Fixture.loggedIn()
        Fixture.type("bcdfghjk", into: &invalid)
        _ = invalid.update(.key(.enter))
        _ = invalid.update(.lookupFailed(.invalidCode(guessesLeft: 3)))
        list.append(("result-invalid", invalid))
        var expired = Fixture.onConsent()
        _ = expired.update(.tick(Fixture.t0.addingTimeInterval(600)))
        list.append(("result-expired", expired))
        var elsewhere = Fixture.onConsent()
        _ = elsewhere.update(.requestUpdated(code: "BCDF-GHJK", .approved))
        list.append(("result-approved-elsewhere", elsewhere))
        var offline = Fixture.loggedIn()
        Fixture.type("bcdfghjk", into: &offline)
        _ = offline.update(.key(.enter))
        _ = offline.update(.lookupFailed(.unreachable))
        list.append(("banner-unreachable", offline))
        var help = Fixture.onConsent()
        _ = help.update(.key(.character("?")))
        list.append(("help", help))
        // The second factor (ARCHITECTURE.md §4.8): the login's code, a wrong one, the step-up
        // prompt and its notice on the consent screen, and "Add an authenticator".
        var otp = Fixture.state()
        _ = otp.update(.loggedIn(ConsentLogin(session: "cs_test", user: "alice", otpRequired: true)))
        Fixture.type("1234", into: &otp)
        list.append(("otp-login", otp))
        var otpWrong = otp
        Fixture.type("56", into: &otpWrong)
        _ = otpWrong.update(.key(.enter))
        _ = otpWrong.update(.codeFailed(.wrongCode("wrong code")))
        list.append(("otp-wrong", otpWrong))
        var stepUpRequest = Fixture.request
        stepUpRequest.secondFactor = "write needs a fresh code from your authenticator"
        list.append(("consent-step-up", Fixture.onConsent(stepUpRequest)))
        var stepUp = Fixture.onConsent(stepUpRequest)
        _ = stepUp.update(.key(.right))
        _ = stepUp.update(.key(.enter))
        _ = stepUp.update(.decisionFailed(.codeRequired("write needs a fresh code from your authenticator")))
        list.append(("otp-step-up", stepUp))
        var enrol = Fixture.loggedIn()
        _ = enrol.update(.key(.function(3)))
        _ = enrol.update(.enrolmentStarted(Fixture.enrolment))
        Fixture.type("12", into: &enrol)
        list.append(("authenticator", enrol))
        var recovery = enrol
        Fixture.type("3456", into: &recovery)
        _ = recovery.update(.key(.enter))
        _ = recovery.update(.enrolmentConfirmed(recoveryCodes: (0..<10).map { "7k2m-\($0)x9q-ab3d-zz0\($0)" }))
        list.append(("authenticator-recovery-codes", recovery))
        // The inbox (CIBA): the banner on code entry, the list, a request opened from it.
        var banner = Fixture.loggedIn()
        _ = banner.update(.inboxListed([InboxUpdateTests.waiting(), InboxUpdateTests.waiting("second", code: "BBBB-CCCC")]))
        list.append(("code-inbox-banner", banner))
        var inbox = banner
        _ = inbox.update(.key(.function(4)))
        list.append(("inbox", inbox))
        list.append(("consent-backchannel", Fixture.onConsent(InboxUpdateTests.waiting())))
        return list
    }

    @Test(arguments: Language.allCases)
    func everyScreenMatchesItsFile(language: Language) {
        for (name, state) in Self.screens() {
            for (width, height) in Self.sizes {
                let buffer = ConsentView.render(state, strings: language.strings, width: width, height: height)
                let mismatch = ScreenFile.mismatch(buffer, named: "\(name)-\(language.rawValue)-\(width)x\(height)")
                #expect(mismatch == nil, "\(mismatch ?? "")")
            }
        }
    }

    @Test func denyHasTheFocusWhenTheConsentScreenOpens() throws {
        let buffer = ConsentView.render(Fixture.onConsent(), strings: .english, width: 80, height: 24)
        let text = buffer.lines.joined(separator: "\n")
        #expect(text.contains("[>Deny<]"))
        #expect(text.contains("[ Approve ]"))
        // Focus is a colour role too, not only the brackets (themes paint it).
        let y = try #require(buffer.lines.firstIndex { $0.contains("[>Deny<]") })
        let x = DisplayWidth.of(String(buffer.lines[y][..<buffer.lines[y].range(of: "[>Deny<]")!.lowerBound]))
        #expect((x..<(x + 8)).allSatisfy { buffer[$0, y].role == .focus })
        let approve = DisplayWidth.of(String(buffer.lines[y][..<buffer.lines[y].range(of: "[ Approve ]")!.lowerBound]))
        #expect(!(approve..<(approve + 11)).contains { buffer[$0, y].role == .focus })
    }

    @Test func tooSmallWindowSaysSo() {
        let buffer = ConsentView.render(Fixture.onConsent(), strings: .english, width: 30, height: 8)
        #expect(buffer.lines.joined(separator: " ").contains("Window too small: need at least 40×12."))
    }

    @Test(arguments: [(80, 24), (40, 12), (120, 40)])
    func wideCharactersNeverOverflowAField(size: (Int, Int)) {
        var request = Fixture.request
        request.clientName = String(repeating: "電視機", count: 40)
        request.userAgent = String(repeating: "🙂", count: 60)
        let state = Fixture.onConsent(request)
        for language in Language.allCases {
            let buffer = ConsentView.render(state, strings: language.strings, width: size.0, height: size.1)
            for y in 0..<buffer.height {
                var columns = 0
                for x in 0..<buffer.width { columns += buffer[x, y].width }
                #expect(columns == buffer.width, "row \(y) spans \(columns) columns")
            }
            // The closing bracket of each field stays in the same column as on a benign screen.
            let benign = ConsentView.render(Fixture.onConsent(), strings: language.strings, width: size.0, height: size.1)
            for y in 0..<buffer.height where benign.lines[y].hasSuffix("]") {
                #expect(buffer.lines[y].hasSuffix("]"))
                #expect(DisplayWidth.of(buffer.lines[y]) == DisplayWidth.of(benign.lines[y]))
            }
        }
    }
}
