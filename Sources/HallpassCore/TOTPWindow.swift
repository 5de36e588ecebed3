import Foundation

/// RFC 6238's rules for checking a time-based code, apart from the HMAC (which the server takes
/// from HummingbirdOTP, ARCHITECTURE.md §4.8): 30-second steps counted from the Unix epoch
/// (§4.2), six digits (RFC 4226 §5.3), the step before and after the current one accepted for
/// clock drift (§5.2, "at most one time step"), and a code used once: a step at or before the
/// last one accepted for that person is a replay (§5.2: "the verifier MUST NOT accept the second
/// attempt of the same OTP").
public enum TOTPWindow {
    public static let stepSeconds: Int64 = 30
    public static let digits = 6
    /// Steps accepted on either side of the current one.
    public static let drift: Int64 = 1

    /// RFC 6238 §4.2: T = floor((now − T0) / X) with T0 = 0 and X = 30.
    public static func step(at date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 / Double(stepSeconds)).rounded(.down))
    }

    /// The time a step begins.
    public static func start(of step: Int64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(step * stepSeconds))
    }

    /// What checking a code found.
    public enum Match: Equatable, Sendable {
        /// Valid for `step`, which is later than any used before: record it.
        case accepted(step: Int64)
        /// Valid, but for a step already used (or earlier): refused.
        case replayed
        case wrong
    }

    /// Checks `code` against the steps around `now`, newest last used first. `code(for:)` gives
    /// the code of one step (zero-padded to `digits`); every candidate is compared in constant
    /// time, so a near miss takes as long as a far one.
    public static func check(_ code: String, at now: Date, lastUsedStep: Int64?, code codeFor: (Int64) -> String) -> Match {
        let current = step(at: now)
        var matched: Int64?
        for candidate in (current - drift)...(current + drift) where candidate >= 0 {
            if constantTimeEqual(codeFor(candidate), code), matched == nil || candidate > matched! { matched = candidate }
        }
        guard let matched else { return .wrong }
        if let lastUsedStep, matched <= lastUsedStep { return .replayed }
        return .accepted(step: matched)
    }

    /// Zero-pads a computed code (`HOTP.compute` answers an Int).
    public static func format(_ value: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
