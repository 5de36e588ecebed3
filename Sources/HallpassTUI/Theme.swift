/// A terminal colour: the terminal's own default, or one of the 256 indexed colours
/// (0–7 the basic names, 8–15 their bright forms).
public enum Colour: Equatable, Sendable {
    case terminalDefault
    case indexed(Int)

    static let names = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]

    /// Parses `default`, a basic name, `bright-NAME`, or a number 0–255.
    public init?(name: String) {
        let lower = name.lowercased()
        if lower == "default" {
            self = .terminalDefault
        } else if let index = Colour.names.firstIndex(of: lower) {
            self = .indexed(index)
        } else if lower.hasPrefix("bright-"), let index = Colour.names.firstIndex(of: String(lower.dropFirst(7))) {
            self = .indexed(index + 8)
        } else if let number = Int(lower), (0...255).contains(number) {
            self = .indexed(number)
        } else {
            return nil
        }
    }
}

/// Text attributes a role may use; in monochrome they are all there is.
public struct Attributes: OptionSet, Equatable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = Attributes(rawValue: 1)
    public static let underline = Attributes(rawValue: 2)
    public static let reverse = Attributes(rawValue: 4)
    public static let dim = Attributes(rawValue: 8)

    static let names: [String: Attributes] = ["bold": .bold, "underline": .underline, "reverse": .reverse, "dim": .dim]
}

/// How one role looks: in colour, and the monochrome fallback used when the terminal has no
/// colours or the theme asks for none.
public struct RoleStyle: Equatable, Sendable {
    public var foreground: Colour
    public var background: Colour
    public var attributes: Attributes
    public var monochrome: Attributes

    public init(_ foreground: Colour = .terminalDefault, _ background: Colour = .terminalDefault,
                _ attributes: Attributes = [], mono monochrome: Attributes = []) {
        self.foreground = foreground
        self.background = background
        self.attributes = attributes
        self.monochrome = monochrome
    }
}

/// A named set of role styles (ARCHITECTURE.md §6), loaded from `Themes/NAME.toml`.
public struct Theme: Equatable, Sendable {
    public var name: String
    /// When true the backend uses only the monochrome attributes, even on a colour terminal.
    public var monochrome: Bool
    public var styles: [Role: RoleStyle]

    public func style(_ role: Role) -> RoleStyle {
        styles[role] ?? Theme.builtIn.styles[role] ?? RoleStyle()
    }

    /// The default theme, compiled in so that a missing or broken theme file still leaves a
    /// usable screen. `Themes/default.toml` says the same (a test keeps them equal).
    public static let builtIn = Theme(name: "default", monochrome: false, styles: [
        .text: RoleStyle(),
        .title: RoleStyle(.indexed(15), .indexed(4), [.bold], mono: [.reverse, .bold]),
        .muted: RoleStyle(.indexed(8), .terminalDefault, [], mono: [.dim]),
        .accent: RoleStyle(.indexed(6), .terminalDefault, [.bold], mono: [.bold]),
        .danger: RoleStyle(.indexed(1), .terminalDefault, [.bold], mono: [.bold, .underline]),
        .success: RoleStyle(.indexed(2), .terminalDefault, [.bold], mono: [.bold]),
        .focus: RoleStyle(.indexed(0), .indexed(3), [.bold], mono: [.reverse, .bold]),
        .border: RoleStyle(.indexed(4), .terminalDefault, [], mono: []),
        .field: RoleStyle(.indexed(7), .indexed(236), [], mono: [.underline]),
        .key: RoleStyle(.indexed(3), .terminalDefault, [.bold], mono: [.bold]),
        .banner: RoleStyle(.indexed(15), .indexed(1), [.bold], mono: [.reverse]),
        .qr: RoleStyle(.indexed(0), .indexed(15), [], mono: []),
    ])
}
