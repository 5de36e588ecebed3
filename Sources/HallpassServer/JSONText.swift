import Logging

/// The JSON text of log fields (RFC 8259): strings escaped so that any input, a stranger's
/// included, stays inside its string and on its line (every control character, `"` and `\`
/// escaped; the rest of Unicode passes as UTF-8).
enum JSONText {
    static func appendString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// A metadata value: strings, numbers and booleans as themselves, arrays and dictionaries
    /// nested (keys in order), anything else as its description.
    static func append(_ value: Logger.MetadataValue, to out: inout String) {
        switch value {
        case .string(let text):
            appendString(text, to: &out)
        case .stringConvertible(let convertible):
            switch convertible {
            case let number as Int: out += String(number)
            case let number as Int64: out += String(number)
            case let number as UInt64: out += String(number)
            case let number as Double where number.isFinite: out += String(number)
            case let flag as Bool: out += flag ? "true" : "false"
            default: appendString(convertible.description, to: &out)
            }
        case .array(let values):
            out += "["
            for (index, element) in values.enumerated() {
                if index > 0 { out += "," }
                append(element, to: &out)
            }
            out += "]"
        case .dictionary(let fields):
            out += "{"
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                appendString(key, to: &out)
                out += ":"
                append(fields[key]!, to: &out)
            }
            out += "}"
        }
    }
}
