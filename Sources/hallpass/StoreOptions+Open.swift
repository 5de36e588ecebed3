import Foundation
import HallpassCore
import HallpassPostgres
import HallpassServer
import HallpassSettings
import HallpassStore

extension StoreOptions {
    /// The settings in effect for this command: defaults, file, environment, then `--db` and
    /// `extraFlags` (the rest of `serve`'s flags), merged once by `SettingsLoader`.
    func serverSettings(extraFlags: [Setting] = []) throws -> ServerSettings {
        var flags: [Setting] = []
        if let db { flags.append(Setting("db", db, from: .flag("--db"))) }
        return try ServerSettings.load(file: config, flags: flags + extraFlags)
    }

    /// The store `--db` names: a SQLite file, or PostgreSQL for `postgres://…`.
    func openStore() async throws -> any HallpassStorage {
        try await Self.openStore(try serverSettings())
    }

    static func openStore(_ settings: ServerSettings) async throws -> any HallpassStorage {
        let path = settings.databasePath
        do {
            if settings.usesPostgres {
                return try await PostgresStore(url: path, maximumConnections: 4)
            }
            return try SQLiteStore(path: path)
        } catch {
            throw CLIError("cannot open the database at \(settings.databaseDescription): \(TerminalText.sanitize(String(describing: error)))")
        }
    }
}
