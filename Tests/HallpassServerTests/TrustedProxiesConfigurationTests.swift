import Foundation
import HallpassCore
import HallpassServer
import HallpassSettings
import Testing

/// `trusted_proxies` from the config file (a string or a TOML array) and the environment.
@Suite struct TrustedProxiesConfigurationTests {
    func file(_ text: String) throws -> String { try temporaryConfigFile(text) }

    @Test func aFileMayListProxiesAsAnArrayOrAString() throws {
        let array = try ServerSettings.load(file: file("trusted_proxies = [\"10.0.0.5\", \"fd00::/8\"]\n"), environment: [:])
        #expect(array.trustedProxies.description == "10.0.0.5, fd00::/8")
        let string = try ServerSettings.load(file: file("trusted_proxies = \"127.0.0.1, ::1\"\n"), environment: [:])
        #expect(string.trustedProxies.description == "127.0.0.1, ::1")
        #expect(try ServerSettings.load(file: nil, environment: [:]).trustedProxies.isEmpty, "nobody is trusted by default")
    }

    @Test func theEnvironmentOverridesTheFile() throws {
        let path = try file("trusted_proxies = [\"10.0.0.5\"]\n")
        let loaded = try ServerSettings.load(file: path, environment: ["HALLPASS_TRUSTED_PROXIES": "none"])
        #expect(loaded.trustedProxies.isEmpty)
    }

    @Test func aBadEntryIsNamedWithWhereItCameFrom() throws {
        let path = try file("trusted_proxies = [\"10.0.0.5\", \"10.0.0.1/8\"]\n")
        #expect(throws: ConfigurationError.invalid("\(path): trusted proxy '10.0.0.1/8' is not an IP address or CIDR block (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8)")) {
            try ServerSettings.load(file: path, environment: [:])
        }
        #expect(throws: ConfigurationError.invalid("environment: trusted proxy 'nginx' is not an IP address or CIDR block (e.g. 10.0.0.5, 10.0.0.0/8, fd00::/8)")) {
            try ServerSettings.load(file: nil, environment: ["HALLPASS_TRUSTED_PROXIES": "nginx"])
        }
        let numbers = try file("trusted_proxies = [1, 2]\n")
        #expect(throws: ConfigurationError.invalid("\(numbers):1: 'trusted_proxies' must be a list of strings")) {
            try ServerSettings.load(file: numbers, environment: [:])
        }
    }

    @Test func aConfigFileThatIsNotUTF8IsRefusedWithWhere() throws {
        let path = try temporaryConfigFile(Data(Array("issuer = \"http://127.0.0.1\"\ntrusted_proxies = \"10.0.0.5\" # caf".utf8) + [0xE9, 0x0A]))
        #expect(throws: ConfigurationError.invalid("\(path):2:35: not valid UTF-8: byte 0xE9 at offset 62; save the file as UTF-8")) {
            try ServerSettings.load(file: path, environment: [:])
        }
    }
}
