import Foundation
import HallpassCore
import TOMLKit

/// A flat TOML config file (ARCHITECTURE.md §6), read strictly: UTF-8 only, known keys only,
/// string values (integers for `http_*`, a string array for `trusted_proxies`). Every error
/// names the file and line.
enum SettingsFile {
    /// The file's settings in its own order, as text.
    static func read(_ path: String, keys: [String]) throws -> [Setting] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError.invalid("cannot read config file \(path)")
        }
        let text: String
        do throws(StrictUTF8.Invalid) {
            text = try StrictUTF8.decode(data)
        } catch {
            throw ConfigurationError.invalid("\(path):\(error.line):\(error.column): \(error); save the file as UTF-8")
        }
        if let finding = TOMLPreflight.firstFinding(in: text) {
            throw ConfigurationError.invalid("\(path):\(finding.line): \(finding)")
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError.invalid("\(path):\(error.source.begin.line): \(error.description)")
        }
        var settings: [Setting] = []
        for key in table.keys {
            guard keys.contains(key) else {
                throw ConfigurationError.invalid("\(path):\(line(of: key, in: text)): unknown setting '\(key)' (known: \(keys.joined(separator: ", ")))")
            }
            // A list may be a TOML array of strings: trusted_proxies = ["10.0.0.5", "fd00::/8"];
            // sites = ["10.1.0.0/16,10.2.0.0/16", "192.168.7.0/24"] is a list of lists (`;` joins them).
            if ["trusted_proxies", "sites", "device_networks"].contains(key), let array = table[key]?.array {
                let items = array.map { $0.string }
                guard items.allSatisfy({ $0 != nil }) else {
                    throw ConfigurationError.invalid("\(path):\(line(of: key, in: text)): '\(key)' must be a list of strings")
                }
                settings.append(Setting(key, items.compactMap { $0 }.joined(separator: key == "sites" ? ";" : ","), from: .file(path)))
                continue
            }
            // Timeouts and limits may be TOML integers: http_head_timeout = 10.
            if key.hasPrefix("http_"), let number = table[key]?.int {
                settings.append(Setting(key, String(number), from: .file(path)))
                continue
            }
            // Switches may be TOML booleans: dpop_nonces = true.
            if let flag = table[key]?.bool {
                settings.append(Setting(key, flag ? "true" : "false", from: .file(path)))
                continue
            }
            guard let value = table[key]?.string else {
                throw ConfigurationError.invalid("\(path):\(line(of: key, in: text)): '\(key)' must be a string")
            }
            settings.append(Setting(key, value, from: .file(path)))
        }
        return settings
    }

    private static func line(of key: String, in text: String) -> Int {
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where line.trimmingCharacters(in: .whitespaces).hasPrefix(key) {
            return index + 1
        }
        return 1
    }
}
