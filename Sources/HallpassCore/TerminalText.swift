/// The one way client- or device-supplied text reaches a terminal.
///
/// C0 and C1 controls (CR, BS, TAB, ESC included), DEL, bidirectional controls, zero-width and
/// tag characters are replaced by visible escapes such as `<U+202E>`; nothing that could move
/// the cursor, change colours, set a window title, write the clipboard or reorder text survives.
public enum TerminalText {
    /// Code points that are never passed through.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F: true            // C0, DEL, C1
        case 0x061C, 0x200E, 0x200F: true              // ALM, LRM, RLM
        case 0x202A...0x202E, 0x2066...0x2069: true    // bidi embeddings, overrides, isolates
        case 0x200B...0x200D, 0x2060...0x2064, 0xFEFF: true // zero-width, word joiner, invisible ops, BOM
        case 0x180E, 0x115F, 0x1160, 0x3164, 0xFFA0: true   // other invisible fillers
        case 0xFFF9...0xFFFB: true                     // interlinear annotation controls
        case 0xE0000...0xE007F: true                   // tag characters
        case 0xD800...0xDFFF: true                     // (unreachable in Swift strings)
        default: false
        }
    }

    /// True when `text` contains nothing `sanitize` would change.
    public static func isClean(_ text: String) -> Bool {
        !text.unicodeScalars.contains(where: isUnsafe)
    }

    /// `text` with every unsafe code point replaced by `<U+XXXX>`.
    public static func sanitize(_ text: String) -> String {
        guard !isClean(text) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out.append(contentsOf: "<U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex)>".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
