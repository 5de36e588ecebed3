/// How many terminal columns text takes, counted the way terminals lay out East Asian text:
/// wide and fullwidth characters take two columns, combining marks none (UAX #11, wcwidth).
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

    static func isWide(_ v: UInt32) -> Bool {
        switch v {
        case 0x1100...0x115F, 0x231A...0x231B, 0x2329...0x232A, 0x23E9...0x23EC, 0x23F0, 0x23F3,
             0x25FD...0x25FE, 0x2614...0x2615, 0x2648...0x2653, 0x267F, 0x2693, 0x26A1, 0x26AA...0x26AB,
             0x26BD...0x26BE, 0x26C4...0x26C5, 0x26CE, 0x26D4, 0x26EA, 0x26F2...0x26F3, 0x26F5, 0x26FA,
             0x26FD, 0x2705, 0x270A...0x270B, 0x2728, 0x274C, 0x274E, 0x2753...0x2755, 0x2757,
             0x2795...0x2797, 0x27B0, 0x27BF, 0x2B1B...0x2B1C, 0x2B50, 0x2B55,
             0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
             0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19, 0xFE30...0xFE6F,
             0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x16FE4, 0x17000...0x18CFF, 0x1B000...0x1B2FF,
             0x1F004, 0x1F0CF, 0x1F18E, 0x1F191...0x1F19A, 0x1F200...0x1F2FF, 0x1F300...0x1F320,
             0x1F32D...0x1F335, 0x1F337...0x1F37C, 0x1F37E...0x1F393, 0x1F3A0...0x1F3CA,
             0x1F3CF...0x1F3D3, 0x1F3E0...0x1F3F0, 0x1F3F4, 0x1F3F8...0x1F43E, 0x1F440, 0x1F442...0x1F4FC,
             0x1F4FF...0x1F53D, 0x1F54B...0x1F54E, 0x1F550...0x1F567, 0x1F57A, 0x1F595...0x1F596, 0x1F5A4,
             0x1F5FB...0x1F64F, 0x1F680...0x1F6C5, 0x1F6CC, 0x1F6D0...0x1F6D2, 0x1F6D5...0x1F6D7,
             0x1F6DC...0x1F6DF, 0x1F6EB...0x1F6EC, 0x1F6F4...0x1F6FC, 0x1F7E0...0x1F7EB, 0x1F7F0,
             0x1F90C...0x1F93A, 0x1F93C...0x1F945, 0x1F947...0x1F9FF, 0x1FA70...0x1FAFF,
             0x20000...0x2FFFD, 0x30000...0x3FFFD:
            true
        default:
            false
        }
    }
}
