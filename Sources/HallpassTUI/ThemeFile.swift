import Foundation
import HallpassCore
import TOMLKit

/// A theme file that could not be used; the message names the file and line.
public struct ThemeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var reason: String
    public var description: String { "\(file):\(line): \(reason)" }
}

/// Reads `Themes/*.toml` (TOML 1.0, parsed by TOMLKit): top level `name` and `monochrome`, then
/// one table per role with `fg`, `bg` (colour names or "0"–"255"), `attrs` and `mono` (arrays
/// of bold, underline, reverse, dim). Roles a file leaves out keep the default theme's style; a
/// role's table starts from the terminal's defaults. Anything else is an error naming the file
/// and line: TOML syntax errors where TOMLKit places them, unknown keys, roles, colours and
/// attributes and wrongly typed values on the line that sets them (`ThemeFile.Lines`).
public enum ThemeFile {
    static let settings = ["name", "monochrome"]
    static let roleKeys = ["fg", "bg", "attrs", "mono"]

    public static func parse(_ text: String, file: String) throws(ThemeError) -> Theme {
        let lines = Lines(text)
        // Keys and values are quoted from the file: the reason goes through the sanitizer.
        func fail(_ path: [String], _ reason: String) -> ThemeError {
            ThemeError(file: file, line: lines.line(of: path), reason: TerminalText.sanitize(reason))
        }
        // TOMLKit hands the text to toml++ as a C string, which would end it at a NUL; and its
        // strings come back through C strings too, cut at an escaped one.
        if let line = lines.firstLineHoldingNUL() {
            throw ThemeError(file: file, line: line, reason: "a theme may not contain U+0000")
        }
        if let finding = TOMLPreflight.firstFinding(in: text) {
            throw ThemeError(file: file, line: finding.line, reason: finding.description)
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ThemeError(file: file, line: lines.clamp(error.source.begin.line), reason: TerminalText.sanitize(error.description))
        } catch {
            throw ThemeError(file: file, line: 1, reason: "\(error)")
        }
        var theme = Theme(name: URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent,
                          monochrome: false, styles: Theme.builtIn.styles)
        // In the order they are written, so the first mistake in the file is the one reported.
        for key in lines.ordered(table.keys, under: []) {
            guard let value = table[key] else { continue }
            switch key {
            case "name":
                guard let name = value.string else { throw fail([key], "'name' must be a quoted string, got \(shown(value))") }
                guard TerminalText.isClean(name) else {
                    throw fail([key], "'name' may not hold control, bidi or invisible characters: \(name)")
                }
                theme.name = name
            case "monochrome":
                guard let flag = value.bool else { throw fail([key], "monochrome must be true or false, got \(shown(value))") }
                theme.monochrome = flag
            default:
                guard let roleTable = value.table else {
                    throw fail([key], "unknown setting '\(key)' (known: \(settings.joined(separator: ", ")), then [role] tables)")
                }
                guard let role = Role(rawValue: key) else {
                    throw fail([key], "unknown role [\(key)] (known: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                theme.styles[role] = try style(roleTable, role: role, lines: lines, fail: fail)
            }
        }
        return theme
    }

    /// One role's table: every key known, every value of its type.
    private static func style(_ table: TOMLTable, role: Role, lines: Lines,
                              fail: ([String], String) -> ThemeError) throws(ThemeError) -> RoleStyle {
        var style = RoleStyle()
        for key in lines.ordered(table.keys, under: [role.rawValue]) {
            guard let value = table[key] else { continue }
            let path = [role.rawValue, key]
            switch key {
            case "fg", "bg":
                guard let name = value.string else {
                    throw fail(path, "expected a quoted string for '\(key)' in [\(role.rawValue)], got \(shown(value))")
                }
                guard let colour = Colour(name: name) else {
                    throw fail(path, "unknown colour \"\(name)\" (use default, a name like cyan or bright-red, or 0–255)")
                }
                if key == "fg" { style.foreground = colour } else { style.background = colour }
            case "attrs", "mono":
                guard let array = value.array else {
                    throw fail(path, "expected an array like [\"bold\"] for '\(key)' in [\(role.rawValue)], got \(shown(value))")
                }
                var attributes: Attributes = []
                for item in array {
                    guard let name = item.string else {
                        throw fail(path, "'\(key)' in [\(role.rawValue)] must hold quoted strings, got \(shown(item))")
                    }
                    guard let attribute = Attributes.names[name] else {
                        throw fail(path, "unknown attribute \"\(name)\" (known: bold, underline, reverse, dim)")
                    }
                    attributes.insert(attribute)
                }
                if key == "attrs" { style.attributes = attributes } else { style.monochrome = attributes }
            default:
                throw fail(path, "unknown key '\(key)' in [\(role.rawValue)] (known: \(roleKeys.joined(separator: ", ")))")
            }
        }
        return style
    }

    /// A value as an error message shows it: scalars as written, containers by their kind.
    private static func shown(_ value: any TOMLValueConvertible) -> String {
        switch value.type {
        case .int, .double, .bool: value.tomlValue.debugDescription
        case .string: "a string"
        case .array: "an array"
        case .table: "a table"
        default: "a \(value.type.description)"
        }
    }
}
