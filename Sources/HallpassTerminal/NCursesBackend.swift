import CNCurses
import Foundation
import HallpassTUI

/// The ncurses backend: paints a `CellBuffer` cell by cell at absolute positions (so no width
/// disagreement can shift later text), reads keys and reports resizes. ncurses keeps global
/// state, so there is one backend per process (ARCHITECTURE.md §1).
public final class NCursesBackend: TerminalBackend {
    private var pairs: [PairKey: Int32] = [:]
    private let colours: Bool
    private let colourCount: Int
    private var stopped = false

    private struct PairKey: Hashable {
        var foreground: Int32
        var background: Int32
    }

    /// Starts ncurses; throws when there is no usable terminal.
    public init() throws {
        hp_setlocale()
        guard hp_start() == 0 else { throw TerminalError("cannot start the terminal (is TERM set?)") }
        colours = hp_has_colors() != 0
        colourCount = Int(hp_colors())
    }

    deinit { stop() }

    /// Restores the terminal. Safe to call twice.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        hp_stop()
    }

    public var size: (width: Int, height: Int) { (Int(hp_width()), Int(hp_height())) }

    public func draw(_ buffer: CellBuffer, theme: Theme) {
        let monochrome = theme.monochrome || !colours
        var styles: [Role: (attrs: UInt32, pair: Int32)] = [:]
        for role in Role.allCases { styles[role] = attributes(theme.style(role), monochrome: monochrome) }
        var text: [wchar_t] = []
        for y in 0..<buffer.height {
            for x in 0..<buffer.width {
                let cell = buffer[x, y]
                guard cell.width > 0 else { continue }
                text.removeAll(keepingCapacity: true)
                for scalar in cell.character.unicodeScalars { text.append(wchar_t(bitPattern: scalar.value)) }
                text.append(0)
                let style = styles[cell.role]!
                _ = hp_put(Int32(y), Int32(x), text, style.attrs, style.pair)
            }
        }
        hp_refresh()
    }

    public func nextEvent(waitingAtMost milliseconds: Int) -> TerminalEvent? {
        var code: UInt32 = 0
        switch hp_get(Int32(milliseconds), &code) {
        case 0: return .key(Self.key(character: code))
        case 1:
            let key = Int32(bitPattern: code)
            if key == hp_key_resize() { return .resize(width: Int(hp_width()), height: Int(hp_height())) }
            return Self.key(code: key).map(TerminalEvent.key)
        default: return nil
        }
    }

    public func wipe() { hp_wipe() }

    static func key(character code: UInt32) -> Key {
        switch code {
        case 13, 10: return .enter
        case 27: return .escape
        case 127, 8: return .backspace
        case 9: return .tab
        case 1...26: return .control(Character(Unicode.Scalar(code + 96)!))
        case 0, 28...31: return .control(Character(Unicode.Scalar(code + 64)!))
        default:
            guard let scalar = Unicode.Scalar(code) else { return .character("\u{FFFD}") }
            return .character(Character(scalar))
        }
    }

    static func key(code: Int32) -> Key? {
        switch code {
        case hp_key_up(): .up
        case hp_key_down(): .down
        case hp_key_left(): .left
        case hp_key_right(): .right
        case hp_key_home(): .home
        case hp_key_end(): .end
        case hp_key_backspace(): .backspace
        case hp_key_dc(): .delete
        case hp_key_btab(): .backTab
        case hp_key_enter(): .enter
        case hp_key_f(1)...hp_key_f(12): .function(Int(code - hp_key_f(0)))
        default: nil
        }
    }

    private func attributes(_ style: RoleStyle, monochrome: Bool) -> (attrs: UInt32, pair: Int32) {
        func bits(_ a: Attributes) -> UInt32 {
            var v: UInt32 = 0
            if a.contains(.bold) { v |= hp_attr_bold() }
            if a.contains(.underline) { v |= hp_attr_underline() }
            if a.contains(.reverse) { v |= hp_attr_reverse() }
            if a.contains(.dim) { v |= hp_attr_dim() }
            return v
        }
        if monochrome { return (bits(style.monochrome), 0) }
        let key = PairKey(foreground: colour(style.foreground), background: colour(style.background))
        if key.foreground == -1, key.background == -1 { return (bits(style.attributes), 0) }
        if let pair = pairs[key] { return (bits(style.attributes), pair) }
        let pair = Int32(pairs.count + 1)
        guard pair < hp_color_pairs() else { return (bits(style.monochrome), 0) }
        _ = hp_init_pair(pair, key.foreground, key.background)
        pairs[key] = pair
        return (bits(style.attributes), pair)
    }

    /// A colour the terminal has: indexed colours beyond its range fall back to the basic eight.
    private func colour(_ c: Colour) -> Int32 {
        switch c {
        case .terminalDefault: return -1
        case .indexed(let n):
            if n < colourCount { return Int32(n) }
            if n < 16 { return Int32(n % 8) }
            return -1
        }
    }
}

public struct TerminalError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
