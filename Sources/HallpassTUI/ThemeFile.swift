import Foundation

/// A theme file that could not be used; the message names the file and line.
public struct ThemeError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var reason: String
    public var description: String { "\(file):\(line): \(reason)" }
}

/// Reads `Themes/*.toml`: a small, strict TOML subset. Top level `name` and `monochrome`, then
/// one table per role with `fg`, `bg` (colour names or 0–255), `attrs` and `mono` (arrays of
/// bold, underline, reverse, dim). Roles a file leaves out keep the default theme's style.
public enum ThemeFile {
    public static func parse(_ text: String, file: String) throws(ThemeError) -> Theme {
        var theme = Theme(name: URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent,
                          monochrome: false, styles: Theme.builtIn.styles)
        var role: Role?
        var seen: Set<String> = []
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            func fail(_ reason: String) -> ThemeError { ThemeError(file: file, line: number, reason: reason) }
            let line = stripComment(String(raw)).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { throw fail("a table header must end with ]") }
                let name = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                guard let r = Role(rawValue: name) else {
                    throw fail("unknown role [\(name)] (known: \(Role.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                guard seen.insert("[\(name)]").inserted else { throw fail("role [\(name)] appears twice") }
                role = r
                theme.styles[r] = RoleStyle()
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { throw fail("expected key = value") }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            guard seen.insert("\(role?.rawValue ?? "").\(key)").inserted else { throw fail("'\(key)' is set twice") }
            guard let role else {
                switch key {
                case "name": theme.name = try string(value, fail)
                case "monochrome":
                    guard value == "true" || value == "false" else { throw fail("monochrome must be true or false") }
                    theme.monochrome = value == "true"
                default: throw fail("unknown setting '\(key)' (known: name, monochrome, then [role] tables)")
                }
                continue
            }
            var style = theme.styles[role] ?? RoleStyle()
            switch key {
            case "fg", "bg":
                let name = try string(value, fail)
                guard let colour = Colour(name: name) else {
                    throw fail("unknown colour \"\(name)\" (use default, a name like cyan or bright-red, or 0–255)")
                }
                if key == "fg" { style.foreground = colour } else { style.background = colour }
            case "attrs", "mono":
                var attributes: Attributes = []
                for item in try array(value, fail) {
                    guard let a = Attributes.names[item] else {
                        throw fail("unknown attribute \"\(item)\" (known: bold, underline, reverse, dim)")
                    }
                    attributes.insert(a)
                }
                if key == "attrs" { style.attributes = attributes } else { style.monochrome = attributes }
            default:
                throw fail("unknown key '\(key)' in [\(role.rawValue)] (known: fg, bg, attrs, mono)")
            }
            theme.styles[role] = style
        }
        return theme
    }

    private static func stripComment(_ line: String) -> String {
        var inString = false
        for (offset, character) in line.enumerated() {
            if character == "\"" { inString.toggle() }
            if character == "#", !inString { return String(line.prefix(offset)) }
        }
        return line
    }

    private static func string(_ value: String, _ fail: (String) -> ThemeError) throws(ThemeError) -> String {
        guard value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") else { throw fail("expected a quoted string, got \(value)") }
        let inner = String(value.dropFirst().dropLast())
        guard !inner.contains("\""), !inner.contains("\\") else { throw fail("escapes are not allowed in theme strings") }
        return inner
    }

    private static func array(_ value: String, _ fail: (String) -> ThemeError) throws(ThemeError) -> [String] {
        guard value.hasPrefix("["), value.hasSuffix("]") else { throw fail("expected an array like [\"bold\"], got \(value)") }
        let inner = value.dropFirst().dropLast().trimmingCharacters(in: .whitespaces)
        if inner.isEmpty { return [] }
        var items: [String] = []
        for part in inner.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            if item.isEmpty { continue }
            items.append(try string(item, fail))
        }
        return items
    }
}
