import Foundation

/// One line of `hallpass doctor` (issue 21): what was checked, what was found, and the fix.
public struct SetupFinding: Sendable, Equatable {
    public enum Severity: String, Sendable, Comparable {
        case ok, warning, error
        public static func < (a: Severity, b: Severity) -> Bool {
            let order: [Severity] = [.ok, .warning, .error]
            return order.firstIndex(of: a)! < order.firstIndex(of: b)!
        }
    }

    public var severity: Severity
    /// What was checked: `database`, `TLS certificate`, `clock`…
    public var subject: String
    public var message: String
    /// What to do about it; nil for `ok`.
    public var fix: String?

    public init(_ severity: Severity, _ subject: String, _ message: String, fix: String? = nil) {
        self.severity = severity
        self.subject = subject
        self.message = message
        self.fix = fix
    }

    public static func ok(_ subject: String, _ message: String) -> SetupFinding { SetupFinding(.ok, subject, message) }

    /// `error    database: … (fix: …)`, padded so the severities line up.
    public var line: String {
        let label = severity.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
        return "\(label) \(subject): \(message)" + (fix.map { " (fix: \($0))" } ?? "")
    }
}

/// The rules `hallpass doctor` applies to what it reads; pure, so each has a unit test.
public enum SetupRules {
    /// A file holding secrets (the database, a private key, the TOTP key): readable or writable
    /// by anyone but its owner is an error. `mode` is `st_mode`'s permission bits.
    /// `groupMayRead`: a file another user provides to the service through its group (a TLS key
    /// certbot renews, `root:hallpass` 0640) may be read by that group, never written.
    public static func secretFileMode(_ mode: UInt16, path: String, subject: String, groupMayRead: Bool = false) -> SetupFinding {
        let permissions = mode & 0o777
        let shown = String(permissions, radix: 8)
        let forbidden: UInt16 = groupMayRead ? 0o037 : 0o077
        if permissions & forbidden != 0 {
            let who = permissions & 0o007 != 0 ? "everyone" : "its group"
            return SetupFinding(.error, subject, "\(path) has mode \(shown): \(who) can \(groupMayRead && who == "its group" ? "change" : "read or change") it",
                                fix: groupMayRead ? "chmod 640 \(path) (group read for the service's user) or 600" : "chmod 600 \(path)")
        }
        return .ok(subject, "\(path) (mode \(shown))")
    }

    /// A certificate's validity at `now`: expired or not yet valid is an error, under
    /// `warningDays` left a warning.
    public static func certificateValidity(notBefore: Date, notAfter: Date, now: Date, path: String,
                                           warningDays: Int = 14) -> SetupFinding {
        let subject = "TLS certificate"
        let day: TimeInterval = 86_400
        let renew = "renew \(path), then reload: systemctl reload hallpass (SIGHUP)"
        if now < notBefore {
            return SetupFinding(.error, subject, "\(path) is not valid until \(Self.day(notBefore)) (is the clock right?)", fix: renew)
        }
        if now >= notAfter {
            return SetupFinding(.error, subject, "\(path) expired on \(Self.day(notAfter))", fix: renew)
        }
        let daysLeft = Int((notAfter.timeIntervalSince(now) / day).rounded(.down))
        if daysLeft < warningDays {
            return SetupFinding(.warning, subject, "\(path) expires in \(daysLeft) day\(daysLeft == 1 ? "" : "s") (\(Self.day(notAfter)))", fix: renew)
        }
        return .ok(subject, "\(path) valid until \(Self.day(notAfter))")
    }

    /// RFC 8414 §2: the issuer is an https URL. Plain http is for loopback (trying it out, or a
    /// TLS-terminating proxy on the same host).
    public static func issuerScheme(_ issuer: URL) -> SetupFinding {
        let host = issuer.host ?? ""
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        let loopbackIPv4 = octets.count == 4 && octets.allSatisfy { UInt8($0) != nil } && octets[0] == "127"
        let loopback = host == "localhost" || host == "::1" || host == "[::1]" || loopbackIPv4
        if issuer.scheme == "https" || loopback { return .ok("issuer", issuer.absoluteString) }
        return SetupFinding(.error, "issuer", "\(issuer.absoluteString) is not https: RFC 8414 §2 requires https, and tokens and passwords would cross the network in clear",
                            fix: "set issuer = \"https://…\" (with tls_cert/tls_key, or a TLS proxy in front)")
    }

    /// This host's clock against another's (the database's, or the issuer's `Date`): tokens and
    /// codes expire by the clock, and every replica must agree on it.
    public static func clockSkew(local: Date, remote: Date, remoteName: String, tolerance: TimeInterval = 1) -> SetupFinding {
        let skew = local.timeIntervalSince(remote)
        let shown = String(format: "%.1f", abs(skew))
        if abs(skew) > 30 {
            return SetupFinding(.error, "clock", "this host's clock is \(shown) s \(skew > 0 ? "ahead of" : "behind") \(remoteName)",
                                fix: "run NTP on both (timedatectl set-ntp true)")
        }
        if abs(skew) > 5 + tolerance {
            return SetupFinding(.warning, "clock", "this host's clock is \(shown) s \(skew > 0 ? "ahead of" : "behind") \(remoteName)",
                                fix: "run NTP on both (timedatectl set-ntp true)")
        }
        return .ok("clock", "within \(shown) s of \(remoteName)")
    }

    /// The clock is at least the release's date: a board without a real-time clock that booted
    /// without NTP says 1970, and every token it signs looks expired.
    public static func clockAfterRelease(now: Date, release: Date) -> SetupFinding {
        guard now >= release else {
            return SetupFinding(.error, "clock", "the clock says \(day(now)), before this release (\(day(release)))",
                                fix: "set the time and run NTP (timedatectl set-ntp true)")
        }
        return .ok("clock", "\(day(now))")
    }

    static func day(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: date)
    }
}
