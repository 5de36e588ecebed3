import Foundation
import Testing

/// The dependency rule of ARCHITECTURE.md §2, read from the sources: `Package.swift`'s target
/// dependencies and the `import` lines of every file under `Sources/`. A module that imports what
/// the rule forbids fails here, with the file that does it.
@Suite struct DependencyRuleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Our own modules (targets under `Sources/`).
    static var ours: Set<String> {
        get throws {
            Set(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("Sources").path))
        }
    }

    /// Of our own modules, what each may import at most (the rest of ours is forbidden to it):
    /// Core nothing; the SSH front Core and the store protocols (and its PTY shim), never the
    /// server; the TUI Core only; the client Core (and the QR shim); the server Core, the store
    /// protocols and settings, never a store implementation, a front or the client.
    static let allowedOfOurs: [String: Set<String>] = [
        "HallpassCore": [],
        "HallpassSSH": ["HallpassCore", "HallpassStore", "CHallpassPTY"],
        "HallpassTUI": ["HallpassCore"],
        "HallpassClient": ["HallpassCore", "CQRencode"],
        "HallpassSettings": ["HallpassCore"],
        "HallpassServer": ["HallpassCore", "HallpassStore", "HallpassSettings", "CSodium"],
        "HallpassStore": ["HallpassCore"],
        "HallpassSQLite": ["HallpassCore", "HallpassStore"],
        "HallpassPostgres": ["HallpassCore", "HallpassStore"],
        "HallpassTerminal": ["HallpassCore", "HallpassTUI", "CNCurses"],
        "HallpassResource": ["HallpassCore"],
    ]

    /// What each module may not import: beyond `allowedOfOurs`, the SSH front no HTTP framework;
    /// the TUI no NIO, Hummingbird or ncurses; the server no store implementation's library; the
    /// store protocols no database library, and each store not the other's; nothing the executable.
    static func forbidden(for module: String, ours: Set<String>) -> (String) -> Bool {
        let notOurs: (String) -> Bool = { name in
            guard let allowed = allowedOfOurs[module] else { return name == "hallpass" }
            return ours.contains(name) && !allowed.contains(name) || name == "hallpass"
        }
        let libraries: (String) -> Bool
        switch module {
        case "HallpassSSH": libraries = { $0.hasPrefix("Hummingbird") }
        case "HallpassTUI": libraries = { $0.hasPrefix("NIO") || $0.hasPrefix("Hummingbird") || $0 == "CNCurses" }
        // The server sees store protocols only; which store runs is the executable's choice.
        case "HallpassServer": libraries = { $0 == "PostgresNIO" || $0.hasPrefix("GRDB") }
        // The store protocols and models link no database library; each store links only its own.
        case "HallpassStore": libraries = { $0.hasPrefix("GRDB") || $0.hasPrefix("Postgres") }
        case "HallpassPostgres": libraries = { $0.hasPrefix("GRDB") }
        case "HallpassSQLite": libraries = { $0.hasPrefix("Postgres") }
        default: libraries = { _ in false }
        }
        return { notOurs($0) || libraries($0) }
    }

    /// `import X`, `@testable import X`, `public import X`, `import struct X.Y`: the module X.
    static func imports(in file: URL) throws -> [String] {
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ").map(String.init).filter { !$0.hasPrefix("@") }
            guard let at = words.firstIndex(of: "import"), at <= 1, words.count > at + 1 else { return nil }
            let rest = words[(at + 1)...]
            let name = ["struct", "class", "enum", "protocol", "func", "var", "typealias"].contains(rest.first!) ? rest.dropFirst().first : rest.first
            return name.map { String($0.split(separator: ".")[0]) }
        }
    }

    @Test func noSourceFileImportsWhatItsModuleMayNot() throws {
        let ours = try Self.ours
        var checked = 0
        for module in ours.sorted() {
            let directory = Self.root.appendingPathComponent("Sources/\(module)")
            guard let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { continue }
            let isForbidden = Self.forbidden(for: module, ours: ours.subtracting([module]))
            for case let file as URL in files where file.pathExtension == "swift" {
                for name in try Self.imports(in: file) {
                    checked += 1
                    #expect(!isForbidden(name), "\(module) may not import \(name): \(file.path.dropFirst(Self.root.path.count + 1))")
                }
            }
        }
        #expect(checked > 100, "the scan found only \(checked) imports: is it reading the sources?")
    }

    /// The same rule on `Package.swift`'s target dependencies, so a forbidden module cannot
    /// even be linked.
    @Test func packageTargetsDependOnlyOnWhatTheRuleAllows() throws {
        let manifest = try String(contentsOf: Self.root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let ours = try Self.ours
        var seen: [String: [String]] = [:]
        // `.target(name: "X", dependencies: [ ... ]` up to the closing bracket of the list.
        let pattern = try Regex(#"\.(?:target|executableTarget)\(\s*name:\s*"([^"]+)"\s*,\s*dependencies:\s*\[([^\]]*)\]"#)
        for match in manifest.matches(of: pattern) {
            guard let name = match.output[1].substring.map(String.init), let list = match.output[2].substring else { continue }
            let dependencies = list.matches(of: try Regex(#""([^"]+)""#)).compactMap { $0.output[1].substring.map(String.init) }
            seen[name] = dependencies
            let isForbidden = Self.forbidden(for: name, ours: ours.subtracting([name]))
            for dependency in dependencies {
                #expect(!isForbidden(dependency), "Package.swift: \(name) may not depend on \(dependency)")
            }
        }
        for module in ["HallpassCore", "HallpassSSH", "HallpassTUI", "HallpassServer", "HallpassStore", "HallpassSQLite", "HallpassPostgres"] {
            #expect(seen[module] != nil, "Package.swift: no dependency list found for \(module)")
        }
    }

    @Test func theRuleCatchesWhatItIsFor() throws {
        let ours = try Self.ours
        #expect(Set(Self.allowedOfOurs.keys).isSubset(of: ours), "allowedOfOurs names a module that is not under Sources/")
        #expect(ours.filter { $0.hasPrefix("Hallpass") }.isSubset(of: Set(Self.allowedOfOurs.keys)),
                "a new module needs its line in allowedOfOurs (and ARCHITECTURE.md §2)")
        #expect(Self.forbidden(for: "HallpassSSH", ours: ours)("HallpassServer"))
        #expect(Self.forbidden(for: "HallpassTUI", ours: ours)("NIOCore"))
        #expect(Self.forbidden(for: "HallpassTUI", ours: ours)("CNCurses"))
        #expect(!Self.forbidden(for: "HallpassTUI", ours: ours)("TOMLKit"))  // themes are TOML
        #expect(Self.forbidden(for: "HallpassCore", ours: ours.subtracting(["HallpassCore"]))("HallpassStore"))
        #expect(!Self.forbidden(for: "HallpassCore", ours: ours.subtracting(["HallpassCore"]))("Crypto"))
        #expect(Self.forbidden(for: "HallpassServer", ours: ours)("HallpassPostgres"))
        #expect(Self.forbidden(for: "HallpassServer", ours: ours)("GRDB"))
        #expect(Self.forbidden(for: "HallpassServer", ours: ours)("HallpassSQLite"))
        #expect(Self.forbidden(for: "HallpassServer", ours: ours)("HallpassTUI"))
        #expect(!Self.forbidden(for: "HallpassServer", ours: ours)("HallpassStore"))
        #expect(Self.forbidden(for: "HallpassSSH", ours: ours)("HallpassClient"))
        #expect(Self.forbidden(for: "HallpassSSH", ours: ours)("HallpassSettings"))
        #expect(Self.forbidden(for: "HallpassSSH", ours: ours)("HummingbirdCore"))
        #expect(!Self.forbidden(for: "HallpassSSH", ours: ours)("HallpassStore"))
        #expect(Self.forbidden(for: "HallpassTUI", ours: ours)("HallpassClient"))
        #expect(Self.forbidden(for: "HallpassClient", ours: ours)("HallpassServer"))
        #expect(Self.forbidden(for: "HallpassPostgres", ours: ours)("HallpassSQLite"))
        #expect(!Self.forbidden(for: "hallpass", ours: ours)("HallpassServer"))
    }
}
