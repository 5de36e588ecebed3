import Foundation
import HallpassCore
import Testing

@Suite struct TerminalTextTests {
    @Test func plainTextPassesUnchanged() {
        for text in ["Living-room TV", "客厅电视", "Café ☕️", "🙂 émoji"] {
            #expect(TerminalText.sanitize(text) == text)
            #expect(TerminalText.isClean(text))
        }
    }

    @Test(arguments: [
        ("a\rb", "a<U+000D>b"), ("a\u{8}b", "a<U+0008>b"), ("a\tb", "a<U+0009>b"),
        ("\u{1B}[2J", "<U+001B>[2J"), ("\u{1B}]0;pwned\u{7}", "<U+001B>]0;pwned<U+0007>"),
        ("\u{1B}]52;c;SGVsbG8=\u{7}", "<U+001B>]52;c;SGVsbG8=<U+0007>"),
        ("abc\u{202E}fed", "abc<U+202E>fed"), ("a\u{200D}b", "a<U+200D>b"), ("x\u{7F}", "x<U+007F>"),
        ("\u{9B}31m", "<U+009B>31m"), ("tag\u{E0041}", "tag<U+E0041>"), ("\u{2066}iso\u{2069}", "<U+2066>iso<U+2069>"),
        ("\u{FEFF}bom", "<U+FEFF>bom"), ("zw\u{200B}sp", "zw<U+200B>sp"),
    ])
    func unsafeCodePointsBecomeVisibleEscapes(_ input: String, _ expected: String) {
        #expect(TerminalText.sanitize(input) == expected)
        #expect(!TerminalText.isClean(input))
        let out = TerminalText.sanitize(input)
        #expect(out.unicodeScalars.allSatisfy { !TerminalText.isUnsafe($0) })
    }
}

@Suite struct FormBodyTests {
    func parse(_ text: String) throws -> FormBody { try FormBody(parsing: Array(text.utf8)) }

    @Test func decodesPercentAndPlus() throws {
        let form = try parse("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&scope=openid+read&x=")
        #expect(form["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code")
        #expect(form["scope"] == "openid read")
        #expect(form["x"] == nil)  // empty means omitted (RFC 6749 §3.1)
    }

    @Test func repeatedParametersAreInvalidRequest() {
        // The name is quoted with ' so the description needs no mapping (RFC 6749 §5.2).
        do {
            _ = try parse("scope=a&scope=b")
            Issue.record("a repeated parameter was accepted")
        } catch let error as OAuthError {
            #expect(error.code == .invalidRequest && error.errorDescription == "parameter 'scope' is repeated")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test(arguments: ["a=%", "a=%4", "a=%zz", "=x"])
    func malformedEncodingIsRejected(_ text: String) {
        #expect(throws: OAuthError.self) { try parse(text) }
    }

    @Test func invalidUTF8IsRejected() {
        #expect(throws: OAuthError(.invalidRequest, "form body is not valid UTF-8")) {
            try FormBody(parsing: [UInt8(ascii: "a"), UInt8(ascii: "="), 0xC3, 0x28])
        }
        #expect(throws: OAuthError.self) { try parse("a=%C3%28") }
    }
}

@Suite struct AttemptLimiterTests {
    @Test func blocksAfterTheLimitAndForgetsAfterTheWindow() {
        var limiter = AttemptLimiter(limit: 3, window: 60)
        let t0 = Date(timeIntervalSince1970: 0)
        #expect(limiter.recordFailure("k", at: t0) == 2)
        #expect(limiter.recordFailure("k", at: t0.addingTimeInterval(10)) == 1)
        #expect(limiter.retryAfter("k", at: t0.addingTimeInterval(11)) == nil)
        #expect(limiter.recordFailure("k", at: t0.addingTimeInterval(20)) == 0)
        #expect(limiter.retryAfter("k", at: t0.addingTimeInterval(21)) == 39)
        #expect(limiter.remaining("other", at: t0) == 3)
        #expect(limiter.retryAfter("k", at: t0.addingTimeInterval(60)) == nil)
        #expect(limiter.remaining("k", at: t0.addingTimeInterval(81)) == 3)
    }

    @Test func resetClears() {
        var limiter = AttemptLimiter(limit: 1, window: 60)
        let t0 = Date()
        limiter.recordFailure("k", at: t0)
        #expect(limiter.retryAfter("k", at: t0) != nil)
        limiter.reset("k")
        #expect(limiter.retryAfter("k", at: t0) == nil)
    }
}

@Suite struct RegistrationTests {
    @Test func clientNamesWithControlsAreRejected() {
        for name in ["TV\r", "\u{1B}[2Jx", "a\u{202E}b", "zw\u{200D}j"] {
            #expect(throws: RegistrationError.self) {
                try OAuthClient.validate(id: "tv", name: name, codeLifetime: 600, interval: 5)
            }
        }
        #expect(throws: Never.self) { try OAuthClient.validate(id: "tv", name: "客厅电视", codeLifetime: 600, interval: 5) }
    }

    @Test func clientIDsAndLimits() {
        #expect(throws: RegistrationError.badClientID) { try OAuthClient.validate(id: "has space", name: "x", codeLifetime: 600, interval: 5) }
        #expect(throws: RegistrationError.badClientID) { try OAuthClient.validate(id: "", name: "x", codeLifetime: 600, interval: 5) }
        #expect(throws: RegistrationError.badLifetime) { try OAuthClient.validate(id: "a", name: "x", codeLifetime: 5, interval: 5) }
        #expect(throws: RegistrationError.badInterval) { try OAuthClient.validate(id: "a", name: "x", codeLifetime: 600, interval: 0) }
    }

    @Test func userNames() {
        #expect(throws: Never.self) { try User.validate(name: "alice.b@example") }
        #expect(throws: RegistrationError.badUserName) { try User.validate(name: "al ice") }
        #expect(throws: RegistrationError.badUserName) { try User.validate(name: "") }
    }

    @Test func durations() {
        #expect(DurationText.parse("600s") == 600)
        #expect(DurationText.parse("10m") == 600)
        #expect(DurationText.parse("1h") == 3600)
        #expect(DurationText.parse("42") == 42)
        #expect(DurationText.parse("soon") == nil)
        #expect(DurationText.parse("-5s") == nil)
    }
}

@Suite struct DisplayWidthTests {
    @Test func widthsFollowEastAsianWidthAndCombiningMarks() {
        #expect(DisplayWidth.of("abc") == 3)
        #expect(DisplayWidth.of("批准") == 4)
        #expect(DisplayWidth.of("e\u{301}") == 1)
        #expect(DisplayWidth.of("🙂") == 2)
        #expect(DisplayWidth.of("ＡＢ") == 4)
    }

    @Test func truncationNeverSplitsAWideCharacter() {
        #expect(DisplayWidth.truncate("Living-room TV", to: 8) == "Living-…")
        #expect(DisplayWidth.truncate("電視機電視機", to: 6) == "電視…")
        #expect(DisplayWidth.of(DisplayWidth.truncate("電視機電視機", to: 6)) == 5)
        #expect(DisplayWidth.fit("電視", to: 7) == "電視   ")
        #expect(DisplayWidth.truncate("short", to: 10) == "short")
    }

    @Test func wrappingBreaksAtSpacesAndBetweenCJKCharacters() {
        #expect(DisplayWidth.wrap("If you did not start this", to: 10) == ["If you did", "not start", "this"])
        #expect(DisplayWidth.wrap("您正在授权一台设备", to: 8) == ["您正在授", "权一台设", "备"])
        // Closing punctuation never starts a line.
        #expect(DisplayWidth.wrap("可以使用小写、空格", to: 12) == ["可以使用小", "写、空格"])
    }
}
