import HallpassCore

/// The colour role of a cell (ARCHITECTURE.md §6). Themes map roles to colours and attributes; meaning
/// is always carried by text or shape as well, never by the colour alone.
public enum Role: String, CaseIterable, Sendable {
    case text, title, muted, accent, danger, success, focus, border, field, key, banner
    /// QR codes: dark modules on a light ground whatever the terminal's colours, so they scan.
    case qr
}

/// One terminal cell: a character, how many columns it takes (0 for the right half of a wide
/// character), and its colour role.
public struct Cell: Equatable, Sendable {
    public var character: Character
    public var width: Int
    public var role: Role

    public static let blank = Cell(character: " ", width: 1, role: .text)
}

/// A grid of cells that views render into and backends paint (ratatui's `Buffer` idea).
/// Nothing is ever written outside the grid, and wide characters are never split.
public struct CellBuffer: Equatable, Sendable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        cells[y * width + x]
    }

    /// Writes server-authored text at (x, y), clipped to `maxWidth` columns (and the grid),
    /// ending in `…` when cut. Returns the columns written.
    @discardableResult
    public mutating func text(_ text: String, x: Int, y: Int, maxWidth: Int? = nil, role: Role = .text) -> Int {
        guard y >= 0, y < height, x >= 0, x < width else { return 0 }
        let limit = min(maxWidth ?? (width - x), width - x)
        var column = x
        for character in DisplayWidth.truncate(text, to: limit) {
            let w = DisplayWidth.of(character)
            guard w > 0 else { continue }
            put(character, width: w, x: column, y: y, role: role)
            column += w
        }
        return column - x
    }

    /// Writes untrusted (client- or device-supplied) text into a fixed-width field: sanitized,
    /// truncated by display width and padded, so it can never reach past `width` columns.
    public mutating func field(_ untrusted: String, x: Int, y: Int, width fieldWidth: Int, role: Role = .field) {
        let safe = TerminalText.sanitize(untrusted)
        let used = text(safe, x: x, y: y, maxWidth: fieldWidth, role: role)
        fill(x: x + used, y: y, count: fieldWidth - used, role: role)
    }

    /// Fills `count` cells from (x, y) with spaces of `role`.
    public mutating func fill(x: Int, y: Int, count: Int, role: Role) {
        guard y >= 0, y < height else { return }
        var column = max(0, x)
        while column < min(width, x + count) {
            put(" ", width: 1, x: column, y: y, role: role)
            column += 1
        }
    }

    /// Paints a whole row with `role` (for bars and banners).
    public mutating func fillRow(_ y: Int, role: Role) {
        fill(x: 0, y: y, count: width, role: role)
    }

    /// Text starting at (x, y) wrapped at spaces into `maxWidth` columns; returns the rows used.
    @discardableResult
    public mutating func paragraph(_ text: String, x: Int, y: Int, maxWidth: Int, maxRows: Int, role: Role = .text) -> Int {
        let lines = DisplayWidth.wrap(text, to: maxWidth)
        for (index, line) in lines.prefix(maxRows).enumerated() {
            let last = index == maxRows - 1 && lines.count > maxRows
            self.text(last ? DisplayWidth.truncate(line + " …", to: maxWidth) : line, x: x, y: y + index, maxWidth: maxWidth, role: role)
        }
        return min(lines.count, maxRows)
    }

    /// The grid as text, one string per row, trailing spaces removed: what screen tests compare.
    public var lines: [String] {
        (0..<height).map { y in
            var line = ""
            for x in 0..<width where self[x, y].width > 0 { line.append(self[x, y].character) }
            while line.hasSuffix(" ") { line.removeLast() }
            return line
        }
    }

    private mutating func put(_ character: Character, width w: Int, x: Int, y: Int, role: Role) {
        guard x + w <= width else {
            // A wide character that would cross the right edge becomes a space.
            if x < width { put(" ", width: 1, x: x, y: y, role: role) }
            return
        }
        clearOverlap(x: x, y: y)
        if w == 2 { clearOverlap(x: x + 1, y: y) }
        cells[y * width + x] = Cell(character: character, width: w, role: role)
        if w == 2 { cells[y * width + x + 1] = Cell(character: " ", width: 0, role: role) }
    }

    /// Before overwriting (x, y): if it is half of a wide character, blank the other half.
    private mutating func clearOverlap(x: Int, y: Int) {
        let index = y * width + x
        if cells[index].width == 0, x > 0 {
            cells[index - 1] = Cell(character: " ", width: 1, role: cells[index - 1].role)
        } else if cells[index].width == 2, x + 1 < width {
            cells[index + 1] = Cell(character: " ", width: 1, role: cells[index + 1].role)
        }
    }
}
