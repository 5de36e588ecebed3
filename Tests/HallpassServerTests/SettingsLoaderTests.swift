import Foundation
import HallpassServer
import HallpassSettings
import Testing

/// ARCHITECTURE.md §6: one loader, defaults < file < `HALLPASS_*` < flags, and two settings types
/// that read only their own keys.
@Suite struct SettingsLoaderTests {
    func file(_ text: String) throws -> String { try temporaryConfigFile(text) }

    @Test func eachStepOverridesTheOneBeforeForTheServer() throws {
        #expect(try ServerSettings.load(file: nil, environment: [:]).port == 8080)                     // default
        let path = try file("listen = \"127.0.0.1:1001\"\n")
        #expect(try ServerSettings.load(file: path, environment: [:]).port == 1001)                   // file
        #expect(try ServerSettings.load(file: nil, environment: ["HALLPASS_CONFIG": path]).port == 1001)
        let environment = ["HALLPASS_LISTEN": "127.0.0.1:1002"]
        #expect(try ServerSettings.load(file: path, environment: environment).port == 1002)           // environment
        #expect(try ServerSettings.load(file: path, environment: ["HALLPASS_LISTEN": ""]).port == 1001, "empty is unset")
        let flags = [Setting("listen", "127.0.0.1:1003", from: .flag("--listen"))]
        #expect(try ServerSettings.load(file: path, environment: environment, flags: flags).port == 1003) // flag
    }

    @Test func eachStepOverridesTheOneBeforeForTheConsentFront() throws {
        let front = ConsentFrontSettings.self
        #expect(try SettingsLoader.load(front, file: nil, environment: [:]).theme == nil)
        let path = try file("theme = \"midnight\"\nlanguage = \"en\"\n")
        #expect(try SettingsLoader.load(front, file: path, environment: [:]).theme == "midnight")
        let environment = ["HALLPASS_THEME": "monochrome"]
        let fromEnvironment = try SettingsLoader.load(front, file: path, environment: environment)
        #expect(fromEnvironment.theme == "monochrome" && fromEnvironment.language == "en")
        let flags = [Setting("theme", "high-contrast", from: .flag("--theme")), Setting("kiosk", "true", from: .flag("--kiosk"))]
        let fromFlags = try SettingsLoader.load(front, file: path, environment: environment, flags: flags)
        #expect(fromFlags.theme == "high-contrast" && fromFlags.kiosk && fromFlags.language == "en")
    }

    @Test func aBadServerSettingDoesNotBreakTheConsentFront() throws {
        let environment = ["HALLPASS_LISTEN": "nowhere", "HALLPASS_SIGNING_ALG": "none", "HALLPASS_HTTP_HEAD_TIMEOUT": "0",
                           "HALLPASS_LANGUAGE": "zh-Hans"]
        #expect(throws: ConfigurationError.invalid("listen address nowhere needs a port from 0 to 65535")) {
            try ServerSettings.load(file: nil, environment: environment)
        }
        let path = try file("issuer = \"http://127.0.0.1:8080\"\ntrusted_proxies = \"nginx\"\ntheme = \"midnight\"\n")
        let front = try SettingsLoader.load(ConsentFrontSettings.self, file: path, environment: environment)
        #expect(front.language == "zh-Hans" && front.theme == "midnight")
    }

    @Test func anUnknownKeyInTheFileBreaksEveryCommandWithWhere() throws {
        let path = try file("theme = \"midnight\"\ncolour = \"blue\"\n")
        let message = "\(path):2: unknown setting 'colour' (known: \(SettingsLoader.keys.joined(separator: ", ")))"
        #expect(throws: ConfigurationError.invalid(message)) { try ServerSettings.load(file: path, environment: [:]) }
        #expect(throws: ConfigurationError.invalid(message)) {
            try SettingsLoader.load(ConsentFrontSettings.self, file: path, environment: [:])
        }
    }

    /// A table header that does not start with a key is refused, naming file and line, before
    /// TOMLKit's toml++ sees it (it would abort: marzer/tomlplusplus#294).
    @Test func aBrokenTableHeaderIsAnErrorNotACrash() throws {
        let path = try file("theme = \"midnight\"\n[[[1]]]\n")
        let message = "\(path):2: a table header must start with a key, like [title], but '[' is followed by '['"
        #expect(throws: ConfigurationError.invalid(message)) { try ServerSettings.load(file: path, environment: [:]) }
    }

    @Test func dpopNoncesIsASwitchFromTheFileTheEnvironmentOrTheFlag() throws {
        #expect(try ServerSettings.load(file: try file("dpop_nonces = true\n"), environment: [:]).dpopNonces)
        #expect(try !ServerSettings.load(file: nil, environment: [:]).dpopNonces)
        #expect(try ServerSettings.load(file: nil, environment: ["HALLPASS_DPOP_NONCES": "true"]).dpopNonces)
        #expect(throws: ConfigurationError.self) { try ServerSettings.load(file: nil, environment: ["HALLPASS_DPOP_NONCES": "yes"]) }
    }

    @Test func theFileKeysAreExactlyWhatTheTwoTypesRead() {
        let read = ServerSettings.keys.union(ConsentFrontSettings.keys)
        #expect(Set(SettingsLoader.keys).isSubset(of: read))
        #expect(ServerSettings.keys.isDisjoint(with: ConsentFrontSettings.keys))
        #expect(read.subtracting(SettingsLoader.keys) == ["demo", "server", "kiosk", "idle_timeout"], "flag-only keys")
    }

    @Test func flagsAreNamedInTheirErrors() throws {
        #expect(throws: ConfigurationError.invalid("--issuer is not a URL")) {
            try ServerSettings.load(file: nil, environment: [:], flags: [Setting("issuer", "http://a b", from: .flag("--issuer"))])
        }
        #expect(throws: ConfigurationError.invalid("environment: issuer is not a URL")) {
            try ServerSettings.load(file: nil, environment: ["HALLPASS_ISSUER": "http://a b"])
        }
        let noSSH = try ServerSettings.load(file: nil, environment: [:], flags: [
            Setting("ssh_listen", "0.0.0.0:2200", from: .flag("--ssh-listen")), Setting("ssh_listen", "off", from: .flag("--no-ssh"))])
        #expect(noSSH.sshHost == nil && noSSH.sshPort == nil)
        #expect(throws: ConfigurationError.self) {
            try ServerSettings.load(file: nil, environment: [:], flags: [Setting("ssh_listen", "off", from: .flag("--ssh-listen"))])
        }
    }
}
