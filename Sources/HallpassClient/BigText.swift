/// The user code in large block letters, so it can be read from across a room. Covers the
/// user-code alphabet (BCDFGHJKLMNPQRSTVWXZ) and the dash.
public enum BigText {
    static let glyphs: [Character: [String]] = [
        "B": ["████ ", "█   █", "████ ", "█   █", "████ "],
        "C": [" ████", "█    ", "█    ", "█    ", " ████"],
        "D": ["████ ", "█   █", "█   █", "█   █", "████ "],
        "F": ["█████", "█    ", "████ ", "█    ", "█    "],
        "G": [" ████", "█    ", "█  ██", "█   █", " ████"],
        "H": ["█   █", "█   █", "█████", "█   █", "█   █"],
        "J": ["  ███", "    █", "    █", "█   █", " ███ "],
        "K": ["█   █", "█  █ ", "███  ", "█  █ ", "█   █"],
        "L": ["█    ", "█    ", "█    ", "█    ", "█████"],
        "M": ["█   █", "██ ██", "█ █ █", "█   █", "█   █"],
        "N": ["█   █", "██  █", "█ █ █", "█  ██", "█   █"],
        "P": ["████ ", "█   █", "████ ", "█    ", "█    "],
        "Q": [" ███ ", "█   █", "█ █ █", "█  █ ", " ██ █"],
        "R": ["████ ", "█   █", "████ ", "█  █ ", "█   █"],
        "S": [" ████", "█    ", " ███ ", "    █", "████ "],
        "T": ["█████", "  █  ", "  █  ", "  █  ", "  █  "],
        "V": ["█   █", "█   █", "█   █", " █ █ ", "  █  "],
        "W": ["█   █", "█   █", "█ █ █", "██ ██", "█   █"],
        "X": ["█   █", " █ █ ", "  █  ", " █ █ ", "█   █"],
        "Z": ["█████", "   █ ", "  █  ", " █   ", "█████"],
        "-": ["     ", "     ", " ███ ", "     ", "     "],
    ]

    /// Five lines of `text` in block letters, or nil if it has a character outside the font.
    public static func lines(_ text: String) -> [String]? {
        var rows = Array(repeating: "", count: 5)
        for character in text {
            guard let glyph = glyphs[character] else { return nil }
            for row in 0..<5 { rows[row] += (rows[row].isEmpty ? "" : " ") + glyph[row] }
        }
        return rows
    }

    /// Columns `lines(text)` takes.
    public static func width(_ text: String) -> Int { text.count * 6 - 1 }
}
