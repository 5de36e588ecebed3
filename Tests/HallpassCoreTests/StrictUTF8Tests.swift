import HallpassCore
import Testing

/// Administrator-supplied text is decoded strictly: a bad byte is reported, never replaced.
@Suite struct StrictUTF8Tests {
    @Test func validTextPassesUnchanged() throws {
        #expect(try StrictUTF8.decode(Array("Café ☕ 客厅电视".utf8)) == "Café ☕ 客厅电视")
        #expect(try StrictUTF8.decode([UInt8]()) == "")
    }

    @Test(arguments: [
        ([0x43, 0x61, 0x66, 0xE9], 3, [0xE9] as [UInt8], "Caf\\xE9"),             // Latin-1 é
        ([0xFF], 0, [0xFF], "\\xFF"),
        ([0x61, 0xC3, 0x28], 1, [0xC3], "a\\xC3("),                               // a lead byte without its continuation
        ([0xED, 0xA0, 0x80], 0, [0xED], "\\xED\\xA0\\x80"),                          // an encoded surrogate
        ([0xC0, 0xAF], 0, [0xC0], "\\xC0\\xAF"),                                    // an overlong '/'
        ([0xF4, 0x90, 0x80, 0x80], 0, [0xF4], "\\xF4\\x90\\x80\\x80"),              // beyond U+10FFFF
        ([0x61, 0xE2, 0x82], 1, [0xE2, 0x82], "a\\xE2\\x82"),                        // cut off at the end
    ])
    func badBytesAreFoundAndShownEscaped(bytes: [UInt8], offset: Int, bad: [UInt8], shown: String) {
        #expect(throws: StrictUTF8.Invalid.self) { try StrictUTF8.decode(bytes) }
        do {
            _ = try StrictUTF8.decode(bytes)
        } catch {
            #expect(error.offset == offset && error.bytes == bad && error.shown == shown)
        }
    }

    @Test func theLineAndColumnAreOfTheFirstBadByte() {
        let file = Array("a = 1\nname = \"".utf8) + [0xFE] + Array("\"\nb = \u{1}".utf8) + [0xFF]
        do {
            _ = try StrictUTF8.decode(file)
            Issue.record("accepted")
        } catch {
            #expect(error.line == 2 && error.column == 9 && error.offset == 14)
            #expect(error.description == "not valid UTF-8: byte 0xFE at offset 14")
            #expect(error.shown.contains("\\xFE") && !error.shown.contains("\u{1}"), "controls go through the sanitizer")
        }
    }
}
