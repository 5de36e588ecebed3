import Foundation
import HallpassCore
import HallpassTUI

/// Shared test data: a fixed clock, a typical request, and states for each screen.
enum Fixture {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static let request = PendingRequest(
        userCode: "BCDF-GHJK", clientID: "living-room-tv", clientName: "Living-room TV",
        scopes: [.init(name: "openid", description: "Confirm who you are"),
                 .init(name: "profile", description: "See your user name"),
                 .init(name: "read", description: "Read your data"),
                 .init(name: "write", description: "Change your data")],
        deviceIP: "192.0.2.7", userAgent: "tv-app/2.1 (Linux; armv7)", requestedSecondsAgo: 12, expiresIn: 588)

    static let login = ConsentLogin(session: "cs_test", user: "alice")

    static func state(kiosk: Bool = false) -> ConsentState {
        ConsentState(now: t0, serverName: "http://127.0.0.1:8080", kiosk: kiosk)
    }

    /// Two live grants as `GET /consent/devices` lists them (the fixture clock is 1,800,000,000).
    static let devices = [
        ConsentAPI.DeviceList.Device(id: "fam_1", clientID: "living-room-tv", clientName: "Living-room TV", deviceIP: "192.0.2.7",
                                     userAgent: "tv-app/2.1 (Linux; armv7)", approvedAt: 1_800_000_000 - 300, lastRefresh: nil,
                                     scope: "openid read"),
        ConsentAPI.DeviceList.Device(id: "fam_2", clientID: "pi", clientName: "Garage \u{1B}[31mPi", deviceIP: "203.0.113.7",
                                     userAgent: nil, approvedAt: 1_800_000_000 - 7200, lastRefresh: 1_800_000_000 - 90,
                                     scope: "read write"),
    ]

    /// A QR-shaped enrolment: a 37-module code (version 5: finder squares and a pattern) in a quiet zone of two.
    static let enrolment = AuthenticatorEnrolment(
        secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DP", uri: "otpauth://totp/Hallpass%20(127.0.0.1):alice?secret=JBSW",
        qr: (-2..<39).map { y in (-2..<39).map { x in
            guard (0..<37).contains(x), (0..<37).contains(y) else { return false }
            let finder = [(0, 0), (30, 0), (0, 30)].contains { fx, fy in
                let (dx, dy) = (x - fx, y - fy)
                guard (0..<7).contains(dx), (0..<7).contains(dy) else { return false }
                return dx == 0 || dy == 0 || dx == 6 || dy == 6 || ((2...4).contains(dx) && (2...4).contains(dy))
            }
            return finder || (x > 8 && y > 8 && (x * 7 + y * 3) % 5 < 2)
        } })

    static func loggedIn() -> ConsentState {
        var s = state()
        _ = s.update(.loggedIn(login))
        return s
    }

    static func onConsent(_ request: PendingRequest = request) -> ConsentState {
        var s = loggedIn()
        for c in "bcdfghjk" { _ = s.update(.key(.character(c))) }
        _ = s.update(.key(.enter))
        _ = s.update(.lookedUp(request))
        return s
    }

    static func type(_ text: String, into state: inout ConsentState) {
        for c in text { _ = state.update(.key(.character(c))) }
    }
}

/// Compares a rendered screen with `Screens/NAME.txt`; `HALLPASS_RECORD_SCREENS=1` rewrites the
/// files (review the diff before committing).
enum ScreenFile {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Screens")

    /// The screen's text, then its colour roles, one letter per column (a wide character's
    /// second column included), trailing plain-text cells left out.
    static func text(_ buffer: CellBuffer) -> String {
        "\(buffer.width)x\(buffer.height)\n" + buffer.lines.map { "|" + $0 }.joined(separator: "\n") + "\n"
            + "roles: " + legend(buffer).map { "\(letter[$0]!) \($0.rawValue)" }.joined(separator: ", ") + "\n"
            + (0..<buffer.height).map { y in
                var row = String((0..<buffer.width).map { letter[buffer[$0, y].role]! })
                while row.hasSuffix("t") { row.removeLast() }
                return "|" + row
            }.joined(separator: "\n") + "\n"
    }

    static let letter: [Role: Character] = [
        .text: "t", .title: "T", .muted: "m", .accent: "a", .danger: "d", .success: "s",
        .focus: "f", .border: "b", .field: "F", .key: "k", .banner: "B", .qr: "Q",
    ]

    /// Every role, but `qr` only on screens that draw a QR code (it came later; the other
    /// screens' files stay as they were).
    static func legend(_ buffer: CellBuffer) -> [Role] {
        let drawsQR = (0..<buffer.height).contains { y in (0..<buffer.width).contains { buffer[$0, y].role == .qr } }
        return Role.allCases.filter { $0 != .qr || drawsQR }
    }

    /// nil when the screen matches; otherwise what differs.
    static func mismatch(_ buffer: CellBuffer, named name: String) -> String? {
        let url = directory.appendingPathComponent(name + ".txt")
        let actual = text(buffer)
        if ProcessInfo.processInfo.environment["HALLPASS_RECORD_SCREENS"] == "1" {
            try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try? actual.write(to: url, atomically: true, encoding: .utf8)
            return nil
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            return "no screen file \(url.path); run the tests with HALLPASS_RECORD_SCREENS=1 to create it\n\(actual)"
        }
        return expected == actual ? nil : "screen \(name) differs:\n--- expected\n\(expected)--- actual\n\(actual)"
    }
}
