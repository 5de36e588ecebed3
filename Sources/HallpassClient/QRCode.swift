import CQRencode

/// A QR code of a string (libqrencode), drawn for terminals with Unicode half blocks: two
/// module rows per text line, dark modules as black on white whatever the terminal's theme.
///
/// ```swift
/// if let qr = QRCode(encoding: codes.verification_uri_complete ?? codes.verification_uri) {
///     qr.halfBlockLines().forEach { print($0) }
/// }
/// ```
public struct QRCode: Sendable, Equatable {
    /// Modules per side.
    public let size: Int
    /// Row-major; true is a dark module.
    public let modules: [Bool]

    public init?(encoding text: String) {
        guard let code = QRcode_encodeString(text, 0, QR_ECLEVEL_L, QR_MODE_8, 1) else { return nil }
        defer { QRcode_free(code) }
        let size = Int(code.pointee.width)
        self.size = size
        modules = (0..<(size * size)).map { code.pointee.data[$0] & 1 == 1 }
    }

    init(size: Int, modules: [Bool]) {
        self.size = size
        self.modules = modules
    }

    public func isDark(x: Int, y: Int) -> Bool {
        x >= 0 && y >= 0 && x < size && y < size && modules[y * size + x]
    }

    /// Columns the drawing takes with `quietZone` light modules around it.
    public func width(quietZone: Int = 2) -> Int { size + 2 * quietZone }

    /// The code as text lines; `colour` wraps each line in black-on-white SGR so that it scans
    /// on dark terminals too (plain text otherwise, for tests and files).
    public func halfBlockLines(quietZone: Int = 2, colour: Bool = true) -> [String] {
        var lines: [String] = []
        var y = -quietZone
        while y < size + quietZone {
            var line = ""
            for x in -quietZone..<(size + quietZone) {
                switch (isDark(x: x, y: y), isDark(x: x, y: y + 1)) {
                case (true, true): line += "█"
                case (true, false): line += "▀"
                case (false, true): line += "▄"
                case (false, false): line += " "
                }
            }
            lines.append(colour ? "\u{1B}[30;107m" + line + "\u{1B}[0m" : line)
            y += 2
        }
        return lines
    }
}
