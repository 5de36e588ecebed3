import Foundation
import HallpassCore
import Testing
@testable import HallpassTUI

/// A client name built to attack the terminal (issue 3): CR, ESC sequences for clear screen,
/// OSC 0 (window title) and OSC 52 (clipboard), U+202E, zero-width joiners.
@Suite struct HostileTextTests {
    static let hostileName = "Evil\r\u{1B}[2J\u{1B}]0;pwned\u{07}\u{1B}]52;c;ZWNobyBoaQ==\u{07}\u{202E}VT moor-gnivil\u{200D}\u{200D}[ Approve ]"

    @Test(arguments: Language.allCases)
    func hostileNameStaysInItsFieldAndIsShownEscaped(language: Language) {
        var request = Fixture.request
        request.clientName = Self.hostileName
        request.userAgent = "ua\u{1B}[31m\u{9B}2J"
        let hostile = ConsentView.render(Fixture.onConsent(request), strings: language.strings, width: 80, height: 24)
        let benign = ConsentView.render(Fixture.onConsent(), strings: language.strings, width: 80, height: 24)
        for cell in hostile.cells {
            #expect(cell.character.unicodeScalars.allSatisfy { !TerminalText.isUnsafe($0) })
        }
        let text = hostile.lines.joined(separator: "\n")
        #expect(text.contains("Evil<U+000D><U+001B>[2J<U+001B>]0;pwned<U+0007>"))
        // Only the two untrusted rows differ from the benign screen, and only inside their fields.
        var differing: [Int] = []
        for y in 0..<24 where hostile.lines[y] != benign.lines[y] {
            differing.append(y)
            let open = benign.lines[y].firstIndex(of: "[")!
            #expect(hostile.lines[y][..<open] == benign.lines[y][..<open])
            #expect(hostile.lines[y].hasSuffix("]"))
            #expect(DisplayWidth.of(hostile.lines[y]) == DisplayWidth.of(benign.lines[y]))
        }
        #expect(differing.count == 2)
        // The one real button row still says what the server says.
        #expect(hostile.lines.filter { $0.contains("[>") }.count == 1)
    }
}

@Suite struct PastedTextTests {
    /// A paste into code entry is untrusted too: a rejected control or bidi character is named
    /// by its escape, never drawn.
    @Test(arguments: ["\u{202E}", "\u{1B}", "\u{200D}"] as [Character])
    func aRejectedPastedCharacterIsShownEscaped(character: Character) {
        var s = Fixture.loggedIn()
        _ = s.update(.key(.character(character)))
        #expect(s.code.notice == .badCharacter(character))
        let buffer = ConsentView.render(s, strings: .english, width: 80, height: 24)
        let hex = String(character.unicodeScalars.first!.value, radix: 16, uppercase: true)
        let escape = "<U+" + String(repeating: "0", count: 4 - hex.count) + hex + ">"
        #expect(buffer.lines.joined().contains("“\(escape)” is never part of a code"))
        #expect(buffer.cells.allSatisfy { $0.character.unicodeScalars.allSatisfy { !TerminalText.isUnsafe($0) } })
    }
}
