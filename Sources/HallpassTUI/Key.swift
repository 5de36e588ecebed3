/// One key press as the TUI sees it, whatever terminal backend read it.
public enum Key: Equatable, Sendable {
    case character(Character)
    case enter, escape, backspace, delete, tab, backTab
    case up, down, left, right, home, end
    /// Ctrl plus a letter, e.g. `.control("c")` for ^C. Kiosk mode ignores them all.
    case control(Character)
    case function(Int)
}

/// What a terminal backend reports: a key, or that the window changed size.
public enum TerminalEvent: Equatable, Sendable {
    case key(Key)
    case resize(width: Int, height: Int)
}
