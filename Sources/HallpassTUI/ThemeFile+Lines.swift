import Foundation

/// Where a theme file writes each key, so that an error TOML itself does not raise (an unknown
/// role, a bad colour) still names its line: TOMLKit reports positions for syntax errors only.
extension ThemeFile {
    struct Lines {
        /// Each line's key path, in file order: `[title]` is ["title"], and below it
        /// `fg = "red"` is ["title", "fg"]; top-level `title.fg = …` is the same path.
        private let paths: [(line: Int, path: [String])]
        private let texts: [Substring]

        init(_ text: String) {
            // Split on U+000A as TOML counts lines; "\r\n" is one Character, so not on Characters.
            texts = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(Substring.init)
            var paths: [(Int, [String])] = []
            var table: [String] = []
            for (index, raw) in texts.enumerated() {
                let line = raw.drop { $0 == " " || $0 == "\t" }
                if line.hasPrefix("[") {
                    // `[a.b]` or `[[a.b]]`, up to the first `]`.
                    let inner = line.drop { $0 == "[" }.prefix { $0 != "]" }
                    table = Self.keyPath(inner)
                    paths.append((index + 1, table))
                } else if !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") {
                    paths.append((index + 1, table + Self.keyPath(line[..<equals])))
                }
            }
            self.paths = paths
        }

        /// `a . "b c" . 'd'` as ["a", "b c", "d"] (TOML 1.0 §Keys: bare, quoted and dotted keys).
        private static func keyPath(_ text: Substring) -> [String] {
            text.split(separator: ".", omittingEmptySubsequences: false).map { part in
                var key = part.trimmingCharacters(in: .whitespaces)
                if key.count >= 2, let first = key.first, first == "\"" || first == "'", key.last == first {
                    key = String(key.dropFirst().dropLast())
                }
                return key
            }
        }

        /// The first line that writes `path` or something inside it; failing that, the line of
        /// the nearest enclosing table (an inline table, say), and line 1 when there is none.
        func line(of path: [String]) -> Int {
            for length in stride(from: path.count, through: 1, by: -1) {
                let prefix = Array(path.prefix(length))
                if let found = paths.first(where: { $0.path.starts(with: prefix) }) { return found.line }
            }
            return 1
        }

        /// `keys` of the table at `path`, in the order the file writes them.
        func ordered(_ keys: [String], under path: [String]) -> [String] {
            keys.map { (key: $0, line: line(of: path + [$0])) }
                .sorted { ($0.line, $0.key) < ($1.line, $1.key) }
                .map(\.key)
        }

        /// A line number TOMLKit reported, kept within the file.
        func clamp(_ line: Int) -> Int { min(max(line, 1), texts.count) }

        /// The first line holding a NUL, raw or written as a `\u0000` / `\U00000000` escape.
        func firstLineHoldingNUL() -> Int? {
            texts.firstIndex { line in
                line.contains("\0") || line.contains("\\u0000") || line.contains("\\U00000000")
            }.map { $0 + 1 }
        }
    }
}
