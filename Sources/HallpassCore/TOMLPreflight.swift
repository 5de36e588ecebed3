/// A check TOMLKit's parser needs done for it, before it reads a theme or the config file. The
/// toml++ inside TOMLKit 0.6 enters its key parser after a table header's `[` (or `[[`) without
/// looking at what follows: for `[=`, `[[[`, `[&` or `[` at the end of a line it fails an
/// assertion (debug builds abort) or, with assertions off, runs on a broken assumption
/// (marzer/tomlplusplus#294, fixed upstream by #301, not in the toml++ TOMLKit 0.6 bundles). So
/// every table header must open with what TOML 1.0 §Table allows: a bare key (`A-Za-z0-9_-`), a
/// quoted key, or `]` (which toml++ itself refuses properly).
public enum TOMLPreflight {
    /// The line and character of the first table header that does not start with a key.
    public struct MalformedTableHeader: Equatable, Sendable, CustomStringConvertible {
        public var line: Int
        public var found: Unicode.Scalar

        public init(line: Int, found: Unicode.Scalar) {
            self.line = line
            self.found = found
        }

        /// What went wrong, for a message that also names the file and line.
        public var description: String {
            let what = found == "\n" || found == "\r" ? "the end of the line" : "'\(TerminalText.sanitize(String(Character(found))))'"
            return "a table header must start with a key, like [title], but '[' is followed by \(what)"
        }
    }

    /// Walks the text as TOML's lexer does: strings (all four kinds, with their escapes),
    /// comments, and the brackets and braces of values, so that a `[` counts as a table header
    /// only where a statement may begin: first on a line, outside any value (an array written
    /// over several lines is a value). On text toml++ accepts this agrees with it; on text it
    /// refuses earlier, an extra finding here only changes which mistake is reported.
    public static func firstMalformedTableHeader(in text: String) -> MalformedTableHeader? {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars[0] = " " }  // toml++ skips a byte-order mark
        var index = 0
        var line = 1
        var statementMayBegin = true
        var valueDepth = 0  // open `[` and `{` of values
        func at(_ offset: Int) -> Unicode.Scalar? {
            index + offset < scalars.count ? scalars[index + offset] : nil
        }
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\n":
                line += 1
                if valueDepth == 0 { statementMayBegin = true }
                index += 1
            case " ", "\t", "\r":
                index += 1
            case "#":
                while let next = at(0), next != "\n" { index += 1 }
            case "\"", "'":
                statementMayBegin = false
                skipString(scalars, &index, &line)
            case "[" where statementMayBegin && valueDepth == 0:
                statementMayBegin = false
                index += 1
                if at(0) == "[" { index += 1 }  // `[[` of an array of tables; `[ [` toml++ refuses itself
                while let next = at(0), next == " " || next == "\t" { index += 1 }
                guard let first = at(0) else { return nil }
                if !(isBareKeyScalar(first) || first == "\"" || first == "'" || first == "]") {
                    return MalformedTableHeader(line: line, found: first)
                }
            case "[", "{":
                statementMayBegin = false
                valueDepth += 1
                index += 1
            case "]", "}":
                statementMayBegin = false
                valueDepth = max(valueDepth - 1, 0)
                index += 1
            default:
                statementMayBegin = false
                index += 1
            }
        }
        return nil
    }

    /// TOML 1.0 §Keys: bare keys are ASCII letters, digits, `_` and `-`.
    static func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": true
        default: false
        }
    }

    /// Moves `index` past the string that starts there (TOML 1.0 §String): basic `"…"` and
    /// multi-line `"""…"""` with `\` escapes, literal `'…'` and `'''…'''` without. A multi-line
    /// string ends at the first run of three or more quotes, up to two of which are content.
    /// A one-line string left open ends at the line's end (toml++ refuses it there).
    private static func skipString(_ scalars: [Unicode.Scalar], _ index: inout Int, _ line: inout Int) {
        let quote = scalars[index]
        let escapes = quote == "\""
        func run(from start: Int) -> Int {
            var end = start
            while end < scalars.count, scalars[end] == quote { end += 1 }
            return end - start
        }
        let multiLine = run(from: index) >= 3
        index += multiLine ? 3 : 1
        while index < scalars.count {
            let scalar = scalars[index]
            if escapes && scalar == "\\" {
                if index + 1 < scalars.count, scalars[index + 1] == "\n" {
                    if !multiLine { index += 1; return }
                    line += 1
                }
                index += 2
                continue
            }
            if scalar == "\n" {
                if !multiLine { return }
                line += 1
            } else if scalar == quote {
                let quotes = run(from: index)
                if !multiLine { index += 1; return }
                index += quotes
                if quotes >= 3 { return }
                continue
            }
            index += 1
        }
    }
}
