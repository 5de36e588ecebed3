import CNCurses
import HallpassTUI

/// Painting and key decoding, on the terminal thread only.
extension NCursesBackend {
    func paint(_ buffer: CellBuffer, theme: Theme) {
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
