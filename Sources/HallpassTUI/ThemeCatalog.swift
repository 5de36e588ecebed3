import Foundation
import HallpassCore

/// Finds and loads a theme by name (`--theme`, `HALLPASS_THEME` or config). A name with a `/`
/// or ending in `.toml` is a path; otherwise `NAME.toml` is looked up in `HALLPASS_THEMES_DIR`,
/// `./Themes`, `share/hallpass/themes` beside the binary, and the nearest `Themes/` above it.
public struct ThemeCatalog: Sendable {
    public var directories: [URL]

    public init(directories: [URL]) {
        self.directories = directories
    }

    /// The usual search path for a program at `executable`.
    public static func standard(executable: String = ownPath,
                                environment: [String: String] = ProcessInfo.processInfo.environment) -> ThemeCatalog {
        var directories: [URL] = []
        if let dir = environment["HALLPASS_THEMES_DIR"], !dir.isEmpty { directories.append(URL(fileURLWithPath: dir)) }
        directories.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Themes"))
        var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        directories.append(dir.deletingLastPathComponent().appendingPathComponent("share/hallpass/themes"))
        for _ in 0..<6 {
            directories.append(dir.appendingPathComponent("Themes"))
            dir = dir.deletingLastPathComponent()
        }
        return ThemeCatalog(directories: directories)
    }

    /// This program's own file (`/proc/self/exe`), not `argv[0]`: run as `hallpass` from `PATH`,
    /// `argv[0]` has no directory, and `/usr/share/hallpass/themes` would not be found.
    public static var ownPath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? "hallpass"
    }

    /// Names of the themes found, without duplicates, sorted.
    public func available() -> [String] {
        var names: Set<String> = []
        for dir in directories {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for file in files where file.hasSuffix(".toml") { names.insert(String(file.dropLast(5))) }
        }
        return names.sorted()
    }

    /// The theme called `name`, or the built-in default with a warning that says why.
    public func load(_ name: String?) -> (theme: Theme, warning: String?) {
        guard let name, !name.isEmpty else { return (Theme.builtIn, nil) }
        guard let path = locate(name) else {
            let known = available()
            return (Theme.builtIn, "theme '\(name)' not found (available: \(known.isEmpty ? "none" : known.joined(separator: ", "))); using the default theme")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            return (Theme.builtIn, "\(path): cannot be read; using the default theme")
        }
        let text: String
        do throws(StrictUTF8.Invalid) {
            text = try StrictUTF8.decode(data)
        } catch {
            return (Theme.builtIn, "\(path):\(error.line):\(error.column): \(error); using the default theme")
        }
        do {
            return (try ThemeFile.parse(text, file: path), nil)
        } catch {
            return (Theme.builtIn, "\(error.description); using the default theme")
        }
    }

    func locate(_ name: String) -> String? {
        if name.contains("/") || name.hasSuffix(".toml") {
            return FileManager.default.fileExists(atPath: name) ? name : nil
        }
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else { return nil }
        for dir in directories {
            let path = dir.appendingPathComponent(name + ".toml").path
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }
}
