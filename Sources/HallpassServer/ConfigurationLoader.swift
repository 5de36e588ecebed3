import Foundation
import HallpassCore
import TOMLKit

/// Builds a `ServerConfiguration` the way ARCHITECTURE.md §6 says: defaults, then a TOML file, then
/// `HALLPASS_*` environment variables, then flags (applied by the caller last).
public enum ConfigurationLoader {
    /// The keys a config file and the environment may set.
    static let keys = ["db", "listen", "issuer", "tls_cert", "tls_key", "signing_alg", "theme", "language", "ssh_listen", "trusted_proxies"] + HTTPEdgeLimits.keys

    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let path = file ?? environment["HALLPASS_CONFIG"] {
            try apply(fileValues(path), to: &configuration, origin: path)
        }
        var fromEnvironment: [String: String] = [:]
        for key in keys {
            if let value = environment["HALLPASS_" + key.uppercased()], !value.isEmpty { fromEnvironment[key] = value }
        }
        try apply(fromEnvironment, to: &configuration, origin: "environment")
        return configuration
    }

    /// Reads a flat TOML file of string values; errors name the file and line.
    static func fileValues(_ path: String) throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError.invalid("cannot read config file \(path)")
        }
        let text: String
        do throws(StrictUTF8.Invalid) {
            text = try StrictUTF8.decode(data)
        } catch {
            throw ConfigurationError.invalid("\(path):\(error.line):\(error.column): \(error); save the file as UTF-8")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError.invalid("\(path):\(error.source.begin.line): \(error.description)")
        }
        var values: [String: String] = [:]
        for key in table.keys {
            guard keys.contains(key) else {
                throw ConfigurationError.invalid("\(path):\(line(of: key, in: text)): unknown setting '\(key)' (known: \(keys.joined(separator: ", ")))")
            }
            // A list may be a TOML array of strings: trusted_proxies = ["10.0.0.5", "fd00::/8"].
            if key == "trusted_proxies", let array = table[key]?.array {
                let items = array.map { $0.string }
                guard items.allSatisfy({ $0 != nil }) else {
                    throw ConfigurationError.invalid("\(path):\(line(of: key, in: text)): '\(key)' must be a list of strings")
                }
                values[key] = items.compactMap { $0 }.joined(separator: ",")
                continue
            }
            // Timeouts and limits may be TOML integers: http_head_timeout = 10.
            if HTTPEdgeLimits.keys.contains(key), let number = table[key]?.int {
                values[key] = String(number)
                continue
            }
            guard let value = table[key]?.string else {
                throw ConfigurationError.invalid("\(path):\(line(of: key, in: text)): '\(key)' must be a string")
            }
            values[key] = value
        }
        return values
    }

    static func apply(_ values: [String: String], to configuration: inout ServerConfiguration, origin: String) throws {
        for (key, value) in values {
            switch key {
            case "db": configuration.databasePath = value
            case "listen":
                let (host, port) = try ServerConfiguration.parseListen(value)
                configuration.host = host
                configuration.port = port
            case "issuer":
                guard let url = URL(string: value) else { throw ConfigurationError.invalid("\(origin): issuer is not a URL") }
                configuration.issuer = url
            case "tls_cert": configuration.tlsCertificatePath = value
            case "tls_key": configuration.tlsKeyPath = value
            case "signing_alg": configuration.signingAlgorithm = value
            case "theme": configuration.theme = value
            case "language": configuration.language = value
            case "ssh_listen":
                if value == "off" {
                    (configuration.sshHost, configuration.sshPort) = (nil, nil)
                } else {
                    (configuration.sshHost, configuration.sshPort) = try ServerConfiguration.parseListen(value)
                }
            case "trusted_proxies":
                do {
                    configuration.trustedProxies = try TrustedProxies(parsing: value)
                } catch {
                    throw ConfigurationError.invalid("\(origin): \(error)")
                }
            case _ where HTTPEdgeLimits.keys.contains(key):
                try configuration.http.set(key, to: value, origin: origin)
            default: break
            }
        }
    }

    private static func line(of key: String, in text: String) -> Int {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where line.trimmingCharacters(in: .whitespaces).hasPrefix(key) {
            return index + 1
        }
        return 1
    }
}
