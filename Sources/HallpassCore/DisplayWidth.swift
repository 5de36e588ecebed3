/// How many terminal columns text takes, counted the way terminals lay out East Asian text:
/// wide and fullwidth characters take two columns (UAX #11; the table is generated from the
/// Unicode data file, `DisplayWidth+Table.swift`), combining marks none (as wcwidth does).
/// Every terminal front measures with this, so nothing a client supplies can spill out of the
/// field it was given.
public enum DisplayWidth {
    /// Columns for one scalar: 0 for combining marks, 2 for wide/fullwidth, 1 otherwise.
    /// Control characters count 1 here; they never reach a cell unsanitized.
    public static func of(_ scalar: Unicode.Scalar) -> Int {
        let v = scalar.value
        if v < 0x300 { return 1 }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        return isWide(v) ? 2 : 1
    }

    /// Columns for one character (grapheme cluster): its widest scalar, so a base letter with
    /// combining marks is 1 and a wide ideograph is 2.
    public static func of(_ character: Character) -> Int {
        var width = 0
        for scalar in character.unicodeScalars { width = max(width, of(scalar)) }
        return width
    }

    /// Columns for a whole string.
    public static func of(_ text: String) -> Int {
        var total = 0
        for character in text { total += of(character) }
        return total
    }

    /// `text` cut to at most `columns` columns; when cut, it ends with `…` (one column), and a
    /// wide character that would straddle the limit is dropped rather than split.
    public static func truncate(_ text: String, to columns: Int) -> String {
        guard columns > 0 else { return "" }
        guard of(text) > columns else { return text }
        var out = ""
        var used = 0
        for character in text {
            let w = of(character)
            if used + w > columns - 1 { break }
            out.append(character)
            used += w
        }
        return out + "…"
    }

    /// `text` truncated and padded with spaces to exactly `columns` columns.
    public static func fit(_ text: String, to columns: Int) -> String {
        let cut = truncate(text, to: columns)
        return cut + String(repeating: " ", count: max(0, columns - of(cut)))
    }

    /// Breaks `text` at spaces into lines of at most `columns` columns; CJK text (no spaces)
    /// breaks between any two characters.
    public static func wrap(_ text: String, to columns: Int) -> [String] {
        guard columns > 0 else { return [] }
        var lines: [String] = []
        var line = ""
        var lineWidth = 0
        func flush() { lines.append(line); line = ""; lineWidth = 0 }
        for word in words(of: text) {
            let w = of(word)
            let isSpace = word == " "
            if isSpace && lineWidth == 0 { continue }
            if lineWidth + w > columns {
                // CJK line breaking: closing punctuation never starts a line; it takes the
                // character before it along.
                if let first = word.first, closingPunctuation.contains(first), let carried = line.popLast() {
                    flush()
                    line = String(carried)
                    lineWidth = of(carried)
                } else if !line.isEmpty {
                    flush()
                }
                if isSpace { continue }
                if w > columns {
                    for character in word {
                        let cw = of(character)
                        if lineWidth + cw > columns { flush() }
                        line.append(character)
                        lineWidth += cw
                    }
                    continue
                }
            }
            line += word
            lineWidth += w
        }
        if !line.isEmpty { lines.append(line) }
        return lines.map { $0.hasSuffix(" ") ? String($0.dropLast()) : $0 }
    }

    static let closingPunctuation: Set<Character> = ["、", "。", "，", "．", "：", "；", "！", "？", "）", "」", "』", "”", "’", "…"]

    /// Words, single spaces, and each wide character on its own (so CJK text can break anywhere).
    private static func words(of text: String) -> [String] {
        var result: [String] = []
        var word = ""
        for character in text {
            if character == " " || of(character) == 2 {
                if !word.isEmpty { result.append(word); word = "" }
                result.append(String(character))
            } else {
                word.append(character)
            }
        }
        if !word.isEmpty { result.append(word) }
        return result
    }

    /// Whether `v` takes two columns: a binary search of the generated `wideRanges`
    /// (`DisplayWidth+Table.swift`, East_Asian_Width W or F).
    static func isWide(_ v: UInt32) -> Bool {
        let ranges = wideRanges
        guard let first = ranges.first, v >= first.lowerBound else { return false }
        var low = 0
        var high = ranges.count
        while low < high {
            let middle = (low + high) / 2
            if ranges[middle].upperBound < v { low = middle + 1 } else { high = middle }
        }
        return low < ranges.count && ranges[low].contains(v)
    }
}
