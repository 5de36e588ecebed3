import Foundation
import HallpassCore
import HallpassSettings
import Logging

/// How each key of ARCHITECTURE.md §6 sets a `ServerSettings`. `SettingsLoader` merges the file,
/// the environment and flags and hands over only these keys.
extension ServerSettings: LayeredSettings {
    public static let keys: Set<String> = Set(["db", "listen", "issuer", "tls_cert", "tls_key", "signing_alg",
                                               "ssh_listen", "trusted_proxies", "demo", "dpop_nonces", "sites", "device_networks", "audit_log",
                                               "totp_key_file", "totp_for_ssh_keys", "log_format", "log_level", "access_log"] + HTTPEdgeLimits.keys)

    /// The settings of `file` (or `HALLPASS_CONFIG`), the environment and `flags`, in that order.
    /// Not validated: `serve` calls `validate()`; the admin commands only need `db`.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
                            flags: [Setting] = []) throws -> ServerSettings {
        try SettingsLoader.load(ServerSettings.self, file: file, environment: environment, flags: flags)
    }

    public mutating func apply(_ setting: Setting) throws {
        let (key, value, origin) = (setting.key, setting.value, setting.origin)
        switch key {
        case "db": databasePath = value
        case "listen": (host, port) = try Self.parseListen(value)
        case "issuer":
            guard let url = URL(string: value) else {
                throw ConfigurationError.invalid(origin.isFlag ? "\(origin) is not a URL" : "\(origin): issuer is not a URL")
            }
            issuer = url
        case "tls_cert": tlsCertificatePath = value
        case "tls_key": tlsKeyPath = value
        case "signing_alg": signingAlgorithm = value
        case "demo": demo = value == "true"
        case "audit_log": auditLog = value
        case "totp_key_file": totpKeyFile = value
        case "totp_for_ssh_keys":
            guard value == "true" || value == "false" else { throw ConfigurationError.invalid("\(origin): totp_for_ssh_keys is true or false") }
            totpForSSHKeys = value == "true"
        case "log_format":
            guard let format = LogFormat(rawValue: value) else {
                throw ConfigurationError.invalid("\(origin): log_format is text or json, not \(FormBody.quoted(value))")
            }
            logFormat = format
        case "log_level":
            guard let level = Logger.Level(rawValue: value) else {
                throw ConfigurationError.invalid("\(origin): log_level is one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), not \(FormBody.quoted(value))")
            }
            logLevel = level
        case "access_log":
            guard value == "true" || value == "false" else { throw ConfigurationError.invalid("\(origin): access_log is true or false") }
            accessLog = value == "true"
        case "sites":
            do {
                sites = try value.split(separator: ";").map { try AddressRanges(parsing: String($0)) }.filter { !$0.isEmpty }
            } catch {
                throw ConfigurationError.invalid("\(origin): sites: \(error)")
            }
        case "device_networks":
            do {
                let ranges = try AddressRanges(parsing: value)
                deviceNetworks = ranges.isEmpty ? nil : ranges
            } catch {
                throw ConfigurationError.invalid("\(origin): device_networks: \(error)")
            }
        case "dpop_nonces":
            guard value == "true" || value == "false" else { throw ConfigurationError.invalid("\(origin): dpop_nonces is true or false") }
            dpopNonces = value == "true"
        case "ssh_listen":
            // `off` is the file's and the environment's word; the flags say `--no-ssh`.
            if value == "off", origin != .flag("--ssh-listen") {
                (sshHost, sshPort) = (nil, nil)
            } else {
                (sshHost, sshPort) = try Self.parseListen(value)
            }
        case "trusted_proxies":
            do {
                trustedProxies = try TrustedProxies(parsing: value)
            } catch {
                throw ConfigurationError.invalid("\(origin): \(error)")
            }
        case _ where HTTPEdgeLimits.keys.contains(key):
            try http.set(key, to: value, origin: "\(origin)")
        default: break
        }
    }
}

/// `log_format`: human-readable lines (swift-log's default) or one JSON object per line.
public enum LogFormat: String, Sendable, Equatable {
    case text, json
}
