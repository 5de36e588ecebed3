import Foundation

/// Where a setting came from; errors name it (ARCHITECTURE.md §6).
public enum SettingOrigin: Sendable, Equatable, CustomStringConvertible {
    /// The TOML file at this path (`--config`, `HALLPASS_CONFIG`).
    case file(String)
    /// A `HALLPASS_<KEY>` variable.
    case environment
    /// A command-line flag, spelled as typed (`--listen`).
    case flag(String)

    public var description: String {
        switch self {
        case .file(let path): path
        case .environment: "environment"
        case .flag(let name): name
        }
    }

    public var isFlag: Bool {
        if case .flag = self { return true }
        return false
    }
}

/// One value for one key, as text, with where it came from.
public struct Setting: Sendable, Equatable {
    public var key: String
    public var value: String
    public var origin: SettingOrigin

    public init(_ key: String, _ value: String, from origin: SettingOrigin) {
        self.key = key
        self.value = value
        self.origin = origin
    }
}

/// A settings type the loader can fill: it starts from its defaults (`init()`) and takes the
/// settings of its own keys, earliest first, so a later one overrides an earlier one.
public protocol LayeredSettings {
    init()
    /// The keys this type reads: file and environment keys (`SettingsLoader.keys`) and flag-only
    /// ones. Settings of other keys are not handed to it, so they cannot break it.
    static var keys: Set<String> { get }
    /// Applies one setting; a bad value throws a `ConfigurationError` naming its origin.
    mutating func apply(_ setting: Setting) throws
}

public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self { case .invalid(let why): why }
    }
}
