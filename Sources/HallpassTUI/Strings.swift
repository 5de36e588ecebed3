import HallpassCore
import Foundation

/// The languages the consent front speaks.
public enum Language: String, CaseIterable, Sendable {
    case english = "en"
    case simplifiedChinese = "zh-Hans"

    /// `en`, `zh-Hans` and the usual spellings of them (`zh_CN`, `zh-CN.UTF-8`, `en_GB`…).
    public init?(tag: String) {
        let lower = tag.lowercased().replacingOccurrences(of: "_", with: "-")
        if lower.hasPrefix("zh-hant") || lower.hasPrefix("zh-tw") || lower.hasPrefix("zh-hk") { return nil }
        if lower.hasPrefix("zh") { self = .simplifiedChinese }
        else if lower.hasPrefix("en") || lower == "c" || lower.hasPrefix("c.") || lower == "posix" { self = .english }
        else { return nil }
    }

    /// The language the locale asks for (`LC_ALL`, then `LC_MESSAGES`, then `LANG`), else English.
    public static func fromLocale(_ environment: [String: String]) -> Language {
        for key in ["LC_ALL", "LC_MESSAGES", "LANG"] {
            if let value = environment[key], !value.isEmpty { return Language(tag: value) ?? .english }
        }
        return .english
    }

    public var strings: Strings {
        switch self {
        case .english: .english
        case .simplifiedChinese: .simplifiedChinese
        }
    }
}

/// Every string the consent front shows, in one language. Parameterised strings are functions.
/// Server-authored text only: client- and device-supplied text never goes through here.
public struct Strings: Sendable {
    public var appName: String
    public var loggedInAs: @Sendable (String) -> String

    // Login
    public var loginTitle: String
    public var loginIntro: String
    public var userName: String
    public var password: String
    public var loginButton: String
    public var loggingIn: String
    public var loginWrong: String
    public var loginEmpty: String
    public var loginLocked: @Sendable (String) -> String
    public var sessionExpired: String

    // Code entry
    public var codeTitle: String
    public var codeHelp: String
    public var codeBadCharacter: @Sendable (String) -> String
    public var codeIncomplete: String
    public var lookingUp: String

    // Consent
    public var consentHeading: String
    public var clientNameLabel: String
    public var clientIDLabel: String
    public var deviceIPLabel: String
    public var userAgentLabel: String
    public var askedLabel: String
    public var secondsAgo: @Sendable (Int) -> String
    public var expiresLabel: String
    public var scopesLabel: String
    public var moreScopes: @Sendable (Int) -> String
    public var phishingWarning: String
    /// A browser signing in to a web app (authorization code grant) instead of a device.
    public var webSignInHeading: String
    public var browserIPLabel: String
    /// Where the browser is sent once decided: the redirect URI's host.
    public var returnsToLabel: String
    public var webSignInWarning: String
    /// BCP 247 proximity, said next to the device's IP.
    public var proximityText: @Sendable (Proximity) -> String
    /// The warning when the device is on another network than the approver.
    public var differentNetworkWarning: String
    /// The same for a small window, short enough to leave a row for the scopes.
    public var differentNetworkWarningShort: String
    public var deny: String
    public var approve: String
    public var selectOneScope: String
    public var deciding: String

    // Deny confirmation
    public var denyTitle: String
    public var denyBody: String
    public var denyConfirm: String
    public var back: String

    // Results
    public var approvedTitle: String
    public var approvedBody: @Sendable (String) -> String
    public var deniedTitle: String
    public var deniedBody: String
    public var expiredTitle: String
    public var expiredBody: String
    public var alreadyUsedTitle: String
    public var alreadyUsedBody: String
    public var elsewhereTitle: String
    public var approvedElsewhere: String
    public var deniedElsewhere: String
    public var invalidTitle: String
    public var guessesLeft: @Sendable (Int) -> String
    public var tooManyTitle: String
    public var tryAgainIn: @Sendable (String) -> String
    public var errorTitle: String
    public var nextDevice: String
    public var kioskNext: String

    // Banner, help, hints
    public var unreachable: @Sendable (String) -> String
    public var retry: String
    public var tooSmall: @Sendable (Int, Int) -> String
    public var helpTitle: String
    public var helpLines: [(key: String, action: String)]
    public var closeHelp: String
    public var hintKeys: String
    public var hintKeysF1: String
    public var hintQuit: String
    public var hintBack: String
    public var hintLogOut: String
    public var hintNextField: String
    public var hintSubmit: String
    public var hintToggle: String
    public var hintMove: String
    public var hintChoose: String
    public var kioskIdle: String
    /// "Your devices" (BCP 247 detect and remediate).
    public var hintDevices: String
    public var devicesTitle: String
    public var devicesHelp: String
    public var devicesEmpty: String
    /// "approved 5 min ago", with `secondsAgo`'s words.
    public var deviceApproved: @Sendable (String) -> String
    public var deviceRefreshed: @Sendable (String) -> String
    public var deviceNeverRefreshed: String
    public var revokeTitle: @Sendable (String) -> String
    public var revokeBody: String
    public var keep: String
    public var revoke: String
    public var revokedNotice: @Sendable (String) -> String
    public var loadingDevices: String
    public var revoking: String
    public var hintRevoke: String
    /// The second factor's screens (ARCHITECTURE.md §4.8).
    public var secondFactor = SecondFactorStrings.english
    /// The inbox (CIBA, ARCHITECTURE.md §4.9).
    public var inbox = InboxStrings.english

    /// "4:05", "0:09": minutes and seconds left.
    public static func clock(_ seconds: Int) -> String {
        let s = max(0, seconds)
        return "\(s / 60):" + (s % 60 < 10 ? "0" : "") + "\(s % 60)"
    }
}
