import Foundation
import HallpassCore
import Testing
@testable import HallpassTUI

@Suite struct ThemeTests {
    static let themes = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Themes")

    @Test func shippedThemesParseAndCoverEveryRole() throws {
        let catalog = ThemeCatalog(directories: [Self.themes])
        let names = catalog.available()
        #expect(names.contains("default") && names.contains("high-contrast") && names.contains("monochrome") && names.contains("midnight"))
        for name in names {
            let (theme, warning) = catalog.load(name)
            #expect(warning == nil, "\(name): \(warning ?? "")")
            #expect(theme.name == name)
            for role in Role.allCases {
                // Meaning never by colour alone: focus, danger and the title differ without colour too.
                if [.focus, .danger, .title].contains(role) { #expect(!theme.style(role).monochrome.isEmpty, "\(name) \(role)") }
            }
        }
        #expect(catalog.load("monochrome").theme.monochrome)
    }

    @Test func theDefaultFileSaysWhatTheBuiltInThemeSays() throws {
        let text = try String(contentsOf: Self.themes.appendingPathComponent("default.toml"), encoding: .utf8)
        #expect(try ThemeFile.parse(text, file: "default.toml") == Theme.builtIn)
    }

    /// The file is TOML, so TOML's other spellings of the same settings mean the same.
    @Test func anyTOMLSpellingOfAThemeReadsTheSame() throws {
        let plain = "name = \"x\"\n[focus]\nfg = \"black\"\nbg = \"yellow\"\nattrs = [\"bold\"]\nmono = [\"reverse\"]\n"
        let other = """
            # comments, literal strings, inline tables, dotted keys, arrays over lines
            name = 'x'   # the theme's name
            focus = { fg = "black", bg = '3', attrs = [ "bold", ], mono = [
              "reverse",
            ] }
            """
        let expected = try ThemeFile.parse(plain, file: "x.toml")
        #expect(try ThemeFile.parse(other, file: "y.toml") == expected)
        #expect(try ThemeFile.parse("focus.fg = \"black\"\nfocus.bg = \"yellow\"\nfocus.attrs = [\"bold\"]\nfocus.mono = [\"reverse\"]\nname = \"x\"",
                                    file: "z.toml") == expected)
        #expect(expected.style(.focus) == RoleStyle(.indexed(0), .indexed(3), [.bold], mono: [.reverse]))
        // A role the file leaves out keeps the default; one it names starts from the terminal's.
        #expect(expected.style(.title) == Theme.builtIn.style(.title))
        #expect(try ThemeFile.parse("[title]\n", file: "t.toml").style(.title) == RoleStyle())
    }

    @Test(arguments: [
        ("name = \"x\"\n[titel]\n", 2, "unknown role [titel]"),
        ("[title]\nfg = \"cyann\"\n", 2, "unknown colour \"cyann\""),
        ("[title]\nfg = \"cyan\"\nattrs = [\"blink\"]\n", 3, "unknown attribute \"blink\""),
        ("\n\n[focus]\nbg = 300\n", 4, "expected a quoted string"),
        // TOML syntax errors: TOMLKit's (toml++'s) words, on the line it names.
        ("[focus]\nfg = \"red\"\nfg = \"blue\"\n", 3, "cannot redefine existing string 'fg'"),
        ("[focus]\n[title]\n[focus]\n", 3, "redefin"),
        ("monochrome = maybe\n", 1, "could not determine value type"),
        ("[text\n", 1, "expected ']'"),
        ("a = \"unterminated\n", 1, "string"),
        // Well-formed TOML that is not a theme: our words, on the line that says it.
        ("monochrome = \"maybe\"\n", 1, "monochrome must be true or false"),
        ("[text]\nshadow = \"red\"\n", 2, "unknown key 'shadow'"),
        ("name = \"x\"\nshade = 3\n", 2, "unknown setting 'shade'"),
        ("name = 7\n", 1, "'name' must be a quoted string, got 7"),
        ("name = \"\\u001b[31mred\"\n", 1, "may not hold control"),
        ("name = \"a\\u0000b\"\n", 1, "U+0000"),
        ("[title]\nattrs = \"bold\"\n", 2, "expected an array like [\"bold\"]"),
        ("[title]\nmono = [\"bold\", 3]\n", 2, "must hold quoted strings, got 3"),
        ("[title]\n\n[title.glow]\nfg = \"red\"\n", 3, "unknown key 'glow' in [title]"),
        ("title = \"red\"\n", 1, "unknown setting 'title'"),
        // Inline tables and dotted keys are TOML too; the error names the line that writes them.
        ("\nfocus = { fg = \"red\", blink = true }\n", 2, "unknown key 'blink' in [focus]"),
        ("\n\nfocus.fg = \"cyann\"\n", 3, "unknown colour \"cyann\""),
        // The first mistake in the file is reported, whatever order TOMLKit keeps the keys in.
        ("[title]\nfg = \"zzz\"\n[accent]\nfg = \"yyy\"\n", 2, "unknown colour \"zzz\""),
        // "\r\n" line ends count as TOML counts them.
        ("[title]\r\nbg = \"blue\"\r\nfg = \"cyann\"\r\n", 3, "unknown colour \"cyann\""),
        // Table headers that do not start with a key: toml++ 3 (inside TOMLKit 0.6) would abort
        // on these (marzer/tomlplusplus#294); they are refused before it sees them.
        ("[=", 1, "'[' is followed by '='"),
        ("[title]\n\n[[[1]]]\n", 3, "'[' is followed by '['"),
        ("[&\n", 1, "'[' is followed by '&'"),
        ("name = \"x\"\n[\t\n", 2, "'[' is followed by the end of the line"),
        ("\u{FEFF}[ .a]\n", 1, "'[' is followed by '.'"),
        ("x = '''\n'''\n [{a=1}]\n", 3, "'[' is followed by '{'"),
        ("[ ]\n", 1, "tables with blank bare keys"),
        ("[title]\nmono = [}}}}e\"]\n", 2, "an array must hold a value here"),
    ])
    func badThemeFilesNameTheFileAndLine(text: String, line: Int, reason: String) {
        #expect(throws: ThemeError.self) { try ThemeFile.parse(text, file: "Themes/bad.toml") }
        do {
            _ = try ThemeFile.parse(text, file: "Themes/bad.toml")
        } catch {
            #expect(error.file == "Themes/bad.toml")
            #expect(error.line == line)
            #expect(error.description.hasPrefix("Themes/bad.toml:\(line): "))
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
    }

    @Test func aBrokenOrMissingThemeFallsBackToTheDefaultWithAWarning() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hallpass-themes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "[title]\nfg = \"purple-ish\"\n".write(to: dir.appendingPathComponent("broken.toml"), atomically: true, encoding: .utf8)
        let catalog = ThemeCatalog(directories: [dir])
        let broken = catalog.load("broken")
        #expect(broken.theme == Theme.builtIn)
        #expect(broken.warning?.contains("broken.toml:2: unknown colour") == true)
        let missing = catalog.load("nope")
        #expect(missing.theme == Theme.builtIn)
        #expect(missing.warning?.contains("theme 'nope' not found (available: broken)") == true)
        #expect(catalog.load("../etc/passwd").warning != nil)
    }

    @Test func languagesComeFromTheFlagOrTheLocale() {
        #expect(Language(tag: "zh_CN.UTF-8") == .simplifiedChinese)
        #expect(Language(tag: "zh-Hans") == .simplifiedChinese)
        #expect(Language(tag: "zh_TW") == nil)
        #expect(Language(tag: "en_GB.UTF-8") == .english)
        #expect(Language(tag: "fr") == nil)
        #expect(Language.fromLocale(["LANG": "zh_CN.UTF-8"]) == .simplifiedChinese)
        #expect(Language.fromLocale(["LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"]) == .english)
        #expect(Language.fromLocale([:]) == .english)
    }
}
