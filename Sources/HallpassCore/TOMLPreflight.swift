/// Checks TOMLKit's parser needs done for it, before it reads a theme or the config file. The
/// toml++ inside TOMLKit 0.6 asserts, where it should report an error, at two places the fuzzer
/// found (debug builds abort there; with assertions off it runs on a broken assumption):
/// - after a table header's `[` (or `[[`) it enters its key parser without looking at what
///   follows: `[=`, `[[[1]]]`, `[&`, `[` at a line's end (marzer/tomlplusplus#294, fixed upstream
///   by #301, not in the toml++ TOMLKit 0.6 bundles);
/// - where an array holds its next value, it enters its value parser on `}` or on the line
///   separators U+0085, U+2028 and U+2029, which end a value (`mono = [}`).
/// So before TOMLKit sees a text, every table header must open with what TOML 1.0 §Table allows
/// (a bare key `A-Za-z0-9_-`, a quoted key, or `]`, which toml++ refuses properly itself), and no
/// array element may start with one of those four characters.
public enum TOMLPreflight {
    /// The first place toml++ would assert at: its line and the character found there.
    public struct Finding: Equatable, Sendable, CustomStringConvertible {
        public enum Place: Sendable { case tableHeader, arrayElement }
        public var line: Int
        public var found: Unicode.Scalar
        public var place: Place

        public init(line: Int, found: Unicode.Scalar, place: Place = .tableHeader) {
            self.line = line
            self.found = found
            self.place = place
        }

        /// What went wrong, for a message that also names the file and line.
        public var description: String {
            let what = found == "\n" || found == "\r" ? "the end of the line" : "'\(TerminalText.sanitize(String(Character(found))))'"
            switch place {
            case .tableHeader: return "a table header must start with a key, like [title], but '[' is followed by \(what)"
            case .arrayElement: return "an array must hold a value here, like [\"bold\"], but found \(what)"
            }
        }
    }

    /// Walks the text as TOML's lexer does: strings (all four kinds, with their escapes),
    /// comments, and the arrays and inline tables of values, so that a `[` counts as a table
    /// header only where a statement may begin (first on a line, outside any value: an array
    /// written over several lines is a value) and an array's element positions are known. On text
    /// toml++ accepts this agrees with it; on text it refuses earlier, an extra finding here only
    /// changes which mistake is reported.
    public static func firstFinding(in text: String) -> Finding? {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars[0] = " " }  // toml++ skips a byte-order mark
        var index = 0
        var line = 1
        var statementMayBegin = true
        var containers: [Unicode.Scalar] = []  // the open `[` and `{` of values, innermost last
        var elementExpected = false            // just after an array's `[` or `,`
        func at(_ offset: Int) -> Unicode.Scalar? {
            index + offset < scalars.count ? scalars[index + offset] : nil
        }
        while index < scalars.count {
            let scalar = scalars[index]
            if elementExpected, !["\n", " ", "\t", "\r", "#"].contains(scalar) {
                elementExpected = false
                if ["}", "\u{85}", "\u{2028}", "\u{2029}"].contains(scalar) {
                    return Finding(line: line, found: scalar, place: .arrayElement)
                }
            }
            switch scalar {
            case "\n":
                line += 1
                if containers.isEmpty { statementMayBegin = true }
                index += 1
            case " ", "\t", "\r":
                index += 1
            case "#":
                while let next = at(0), next != "\n" { index += 1 }
            case "\"", "'":
                statementMayBegin = false
                skipString(scalars, &index, &line)
            case "[" where statementMayBegin && containers.isEmpty:
                statementMayBegin = false
                index += 1
                if at(0) == "[" { index += 1 }  // `[[` of an array of tables; `[ [` toml++ refuses itself
                while let next = at(0), next == " " || next == "\t" { index += 1 }
                guard let first = at(0) else { return nil }
                if !(isBareKeyScalar(first) || first == "\"" || first == "'" || first == "]") {
                    return Finding(line: line, found: first, place: .tableHeader)
                }
            case "[", "{":
                statementMayBegin = false
                containers.append(scalar)
                elementExpected = scalar == "["
                index += 1
            case "]", "}":
                statementMayBegin = false
                _ = containers.popLast()
                index += 1
            case ",":
                elementExpected = containers.last == "["
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
