import Foundation
import HallpassCore

/// Times are stored as Unix seconds (REAL in SQLite, DOUBLE PRECISION in PostgreSQL).
extension Date {
    public var unix: Double { timeIntervalSince1970 }
    public init(unix: Double) { self.init(timeIntervalSince1970: unix) }
}

extension ScopeSet {
    /// A stored scope string (written by us, so already valid).
    public init(words: String?) {
        self.init((words ?? "").split(separator: " ").map(String.init))
    }
}
