import HallpassCore
import Testing

/// The check that keeps TOMLKit's toml++ from aborting on a malformed table header
/// (marzer/tomlplusplus#294); the files that use it test the messages (ThemeTests,
/// SettingsLoaderTests).
@Suite struct TOMLPreflightTests {
    /// A `[` counts as a table header only where a statement may begin; inside strings,
    /// comments and values written over several lines it is not one.
    @Test func onlyAStatementsOpeningBracketIsATableHeader() {
        let notHeaders = [
            "a = [\n[\n1]\n]\n",                    // nested arrays over lines
            "a = [\n  { b = 1 },\n  +1,\n]\n",          // values that may follow '[' in an array
            "a = \"\"\"\n[=\n\"\"\"\n",                  // a multi-line basic string
            "a = '''\n[=\n'''\n",                      // a multi-line literal string
            "a = \"\"\"x\\\"\"\"\n[=\"\"\"\n",           // an escaped quote does not end it
            "a = \"\"\"x\"\"\"\"\"\n[title]\n",            // up to two quotes before the closing three
            "# [=\n[title] # [=\n",                     // comments
            "a = \"[=\"\n[\"quoted key\"]\n['lit']\n[[arr]]\n[ title . x ]\n",
        ]
        for text in notHeaders {
            #expect(TOMLPreflight.firstFinding(in: text) == nil, "\(text.debugDescription)")
        }
        #expect(TOMLPreflight.firstFinding(in: "a = \"\"\"x\"\"\"\n[=\n")
                == .init(line: 2, found: "="))
        #expect(TOMLPreflight.firstFinding(in: "a = [1]\n[[ +]]\n") == .init(line: 2, found: "+"))
        #expect(TOMLPreflight.firstFinding(in: "a = 'x\n[#\n") == .init(line: 2, found: "#"))
    }

    /// Where an array holds its next value, toml++ 3 asserts on `}` and the Unicode line
    /// separators; nowhere else do they need refusing here.
    @Test func anArrayElementMayNotStartWithWhatEndsAValue() {
        for (text, line, found) in [("mono = [}", 1, "}"), ("a = [1, }]", 1, "}"), ("a = [\n  # note\n  }\n]", 3, "}"),
                                    ("a = [[1], [\u{2028}]]", 1, "\u{2028}"), ("a = [\u{85}]", 1, "\u{85}"),
                                    ("x = { a = [ \u{2029} ] }", 1, "\u{2029}")] as [(String, Int, Unicode.Scalar)] {
            #expect(TOMLPreflight.firstFinding(in: text) == .init(line: line, found: found, place: .arrayElement), "\(text.debugDescription)")
        }
        for text in ["a = [ {b=1}, ]", "x = { a = [1], b = 2 }", "a = [[1], [2]]", "a = []", "a = [ ]", "x = {}", "a = \"[}\"",
                     "a = [\n]", "a = [1,\n# c\n2]"] {
            #expect(TOMLPreflight.firstFinding(in: text) == nil, "\(text.debugDescription)")
        }
    }

    @Test func theMessageNamesWhatFollowsTheBracket() {
        #expect(TOMLPreflight.Finding(line: 1, found: "=").description.hasSuffix("'[' is followed by '='"))
        #expect(TOMLPreflight.Finding(line: 1, found: "\n").description.hasSuffix("followed by the end of the line"))
        #expect(!TOMLPreflight.Finding(line: 1, found: "\u{1B}").description.contains("\u{1B}"))
        #expect(TOMLPreflight.Finding(line: 1, found: "}", place: .arrayElement).description.hasSuffix("but found '}'"))
    }
}
