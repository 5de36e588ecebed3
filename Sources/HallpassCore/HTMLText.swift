/// Untrusted text on a web page: every string a client or browser supplied reaches HTML only
/// through `escape` (the five characters HTML gives meaning in text and quoted attributes), and
/// first through `TerminalText.sanitize` where a person reads it, so bidirectional and invisible
/// characters cannot rearrange what the page says.
public enum HTMLText {
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    /// Client- or browser-supplied text for a person to read: sanitized, then escaped.
    public static func untrusted(_ text: String) -> String {
        escape(TerminalText.sanitize(text))
    }
}
