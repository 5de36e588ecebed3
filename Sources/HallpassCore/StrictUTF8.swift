/// Text an administrator or a file supplies (command-line arguments, `HALLPASS_*` variables,
/// secrets and keys on standard input, the config file, theme files) must be valid UTF-8: it
/// is refused, never repaired with U+FFFD, so what is stored is what was meant.
public enum StrictUTF8 {
    /// Where the bytes stop being UTF-8.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        /// Offset of the first byte of the bad sequence.
        public var offset: Int
        /// The bad sequence (1–3 bytes, as the decoder rejected it).
        public var bytes: [UInt8]
        /// 1-based line and column (in bytes) of `offset`.
        public var line: Int
        public var column: Int
        /// The bytes shown safely: valid text as it is (through the terminal sanitizer), each
        /// byte of a bad sequence as `\xNN`.
        public var shown: String

        public var description: String {
            "not valid UTF-8: byte\(bytes.count == 1 ? "" : "s") \(bytes.map(Self.hex).joined(separator: " ")) at offset \(offset)"
        }

        static func hex(_ byte: UInt8) -> String {
            let digits = Array("0123456789ABCDEF")
            return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0xF)])
        }
    }

    /// `bytes` as a String, or where it is not UTF-8. (Swift's `String(decoding:)` would repair.)
    public static func decode<Bytes: Collection>(_ bytes: Bytes) throws(Invalid) -> String where Bytes.Element == UInt8 {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        throw invalid(Array(bytes))
    }

    /// The first bad sequence of `bytes` (which must not be valid UTF-8) and the text around it.
    static func invalid(_ bytes: [UInt8]) -> Invalid {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var offset = 0
        var shown = ""
        var first: (offset: Int, bytes: [UInt8])?
        loop: while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                shown.unicodeScalars.append(Unicode.UTF8.decode(encoded))
                offset += encoded.count
            case .error(let length):
                let bad = Array(bytes[offset..<(offset + length)])
                if first == nil { first = (offset, bad) }
                shown += bad.map { "\\x" + Invalid.hex($0).dropFirst(2) }.joined()
                offset += length
            case .emptyInput:
                break loop
            }
        }
        let found = first ?? (bytes.count, [])
        let before = bytes[..<found.offset]
        let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
        return Invalid(offset: found.offset, bytes: found.bytes, line: before.count { $0 == 0x0A } + 1,
                       column: found.offset - lineStart + 1, shown: TerminalText.sanitize(shown))
    }
}
