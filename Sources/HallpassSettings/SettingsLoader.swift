import Foundation

/// The one place settings are merged (ARCHITECTURE.md §6): defaults, then a flat TOML file
/// (`--config` or `HALLPASS_CONFIG`), then non-empty `HALLPASS_<KEY>` variables, then flags.
/// The file and the environment are shared by every command; each command loads only the type
/// it needs (`ServerSettings` for `serve` and the admin commands, `ConsentFrontSettings` for
/// `approve`), which takes only its own keys: a bad server setting cannot break the approver.
public enum SettingsLoader {
    /// Every key a config file or `HALLPASS_*` variable may set, in README's order. An unknown
    /// key in the file is an error for every command, whichever type it loads.
    public static let keys = ["db", "listen", "issuer", "tls_cert", "tls_key", "signing_alg", "theme", "language",
                              "ssh_listen", "trusted_proxies", "http_head_timeout", "http_body_timeout",
                              "http_idle_timeout", "http_max_connections", "http_max_connections_per_address", "dpop_nonces", "sites", "device_networks", "audit_log",
                              "totp_key_file", "totp_for_ssh_keys", "log_format", "log_level", "access_log"]

    /// `S`'s defaults with the file's, the environment's and then `flags`' settings applied, in
    /// that order. `flags` may only carry `S`'s keys.
    public static func load<S: LayeredSettings>(
        _ type: S.Type, file: String?, environment: [String: String], flags: [Setting] = []
    ) throws -> S {
        precondition(flags.allSatisfy { S.keys.contains($0.key) }, "a flag for a key \(S.self) does not read")
        var settings = S()
        for setting in try layers(file: file, environment: environment) + flags where S.keys.contains(setting.key) {
            try settings.apply(setting)
        }
        return settings
    }

    /// The value in force for each key that is set, as text (the last of file, environment,
    /// `flags`): what `serve` compares on SIGHUP to name the changes that need a restart.
    public static func effective(file: String?, environment: [String: String], flags: [Setting] = []) throws -> [String: String] {
        var values: [String: String] = [:]
        for setting in try layers(file: file, environment: environment) + flags { values[setting.key] = setting.value }
        return values
    }

    /// The file's settings, then the environment's: what every command starts from.
    static func layers(file: String?, environment: [String: String]) throws -> [Setting] {
        var settings: [Setting] = []
        if let path = file ?? environment["HALLPASS_CONFIG"] {
            settings += try SettingsFile.read(path, keys: keys)
        }
        for key in keys {
            if let value = environment["HALLPASS_" + key.uppercased()], !value.isEmpty {
                settings.append(Setting(key, value, from: .environment))
            }
        }
        return settings
    }
}
