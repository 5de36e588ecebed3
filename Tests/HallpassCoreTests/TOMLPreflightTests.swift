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
            #expect(TOMLPreflight.firstMalformedTableHeader(in: text) == nil, "\(text.debugDescription)")
        }
        #expect(TOMLPreflight.firstMalformedTableHeader(in: "a = \"\"\"x\"\"\"\n[=\n")
                == .init(line: 2, found: "="))
        #expect(TOMLPreflight.firstMalformedTableHeader(in: "a = [1]\n[[ +]]\n") == .init(line: 2, found: "+"))
        #expect(TOMLPreflight.firstMalformedTableHeader(in: "a = 'x\n[#\n") == .init(line: 2, found: "#"))
    }

    @Test func theMessageNamesWhatFollowsTheBracket() {
        #expect(TOMLPreflight.MalformedTableHeader(line: 1, found: "=").description.hasSuffix("'[' is followed by '='"))
        #expect(TOMLPreflight.MalformedTableHeader(line: 1, found: "\n").description.hasSuffix("followed by the end of the line"))
        #expect(!TOMLPreflight.MalformedTableHeader(line: 1, found: "\u{1B}").description.contains("\u{1B}"))
    }
}
