/// The character rule for `error_description` (RFC 6749 §5.2, and §4.1.2.1, §4.2.2.1 for the
/// redirect forms): "Values for the error_description parameter MUST NOT include characters
/// outside the set %x20-21 / %x23-5B / %x5D-7E", that is printable ASCII without `"` and `\`.
extension OAuthError {
    /// True when `text` may go on the wire as an `error_description` unchanged.
    public static func isWireDescription(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy(isAllowed)
    }

    /// `text` with every character the rule forbids replaced, so a description (which may quote a
    /// character a client sent: "not a code: 'ß' cannot appear…") can always be sent: typographic
    /// quotes and `"` become `'`, a backslash `/`, `§` "section ", an ellipsis `...`, dashes `-`, controls and
    /// line breaks a space, and any other character its code point (`U+00DF`). Nothing is dropped,
    /// so the description still says which character was wrong.
    public static func wireDescription(_ text: String) -> String {
        if isWireDescription(text) { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if isAllowed(scalar) {
                out.unicodeScalars.append(scalar)
                continue
            }
            switch scalar.value {
            case 0x22, 0x2018, 0x2019, 0x201A, 0x201B, 0x201C, 0x201D, 0x201E, 0x201F, 0x2032, 0x2033, 0xAB, 0xBB:
                out += "'"
            case 0x5C: out += "/"
            case 0xA7: out += "section "
            case 0x2026: out += "..."
            case 0x2010...0x2015, 0x2212: out += "-"
            case 0x00...0x1F, 0x7F, 0x85, 0xA0, 0x2028, 0x2029: out += " "
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            }
        }
        return out
    }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20...0x21, 0x23...0x5B, 0x5D...0x7E: true
        default: false
        }
    }
}
