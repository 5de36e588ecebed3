import Foundation
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

    @Test(arguments: [
        ("name = \"x\"\n[titel]\n", 2, "unknown role [titel]"),
        ("[title]\nfg = \"cyann\"\n", 2, "unknown colour \"cyann\""),
        ("[title]\nfg = \"cyan\"\nattrs = [\"blink\"]\n", 3, "unknown attribute \"blink\""),
        ("\n\n[focus]\nbg = 300\n", 4, "expected a quoted string"),
        ("[focus]\nfg = \"red\"\nfg = \"blue\"\n", 3, "'fg' is set twice"),
        ("monochrome = maybe\n", 1, "monochrome must be true or false"),
        ("[text]\nshadow = \"red\"\n", 2, "unknown key 'shadow'"),
        ("[text\n", 1, "must end with ]"),
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
