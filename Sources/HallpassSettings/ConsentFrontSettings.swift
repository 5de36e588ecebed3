import Foundation

/// What `hallpass approve`'s consent screen is told (ARCHITECTURE.md §6): `theme` and `language`
/// from the file and `HALLPASS_THEME`/`HALLPASS_LANGUAGE`, then its flags. It reads none of the
/// server's keys, so a server setting the approver cannot parse (`HALLPASS_LISTEN=nowhere`)
/// does not stop it.
public struct ConsentFrontSettings: LayeredSettings, Sendable, Equatable {
    /// The server's issuer URL (`--server`; a flag only).
    public var server = "http://127.0.0.1:8080"
    /// A theme name from `Themes/` or a `.toml` path (`theme`, `--theme`).
    public var theme: String?
    /// `en` or `zh-Hans` (`language`, `--lang`); checked by the command, which knows the languages.
    public var language: String?
    /// Kiosk mode (`--kiosk`; a flag only).
    public var kiosk = false
    /// Kiosk: seconds without a key before logging out (`--idle-timeout`; a flag only).
    public var idleTimeout = 60

    public init() {}

    public static let keys: Set<String> = ["theme", "language", "server", "kiosk", "idle_timeout"]

    public mutating func apply(_ setting: Setting) throws {
        switch setting.key {
        case "theme": theme = setting.value
        case "language": language = setting.value
        case "server": server = setting.value
        case "kiosk": kiosk = setting.value == "true"
        case "idle_timeout":
            guard let seconds = Int(setting.value) else {
                throw ConfigurationError.invalid("\(setting.origin): idle timeout must be a whole number of seconds")
            }
            idleTimeout = seconds
        default: break
        }
    }
}
