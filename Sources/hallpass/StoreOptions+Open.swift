import Foundation
import HallpassCore
import HallpassPostgres
import HallpassServer
import HallpassSettings
import HallpassStore
import HallpassSQLite

extension StoreOptions {
    /// The settings in effect for this command: defaults, file, environment, then `--db` and
    /// `extraFlags` (the rest of `serve`'s flags), merged once by `SettingsLoader`.
    func serverSettings(extraFlags: [Setting] = []) throws -> ServerSettings {
        var flags: [Setting] = []
        if let db { flags.append(Setting("db", db, from: .flag("--db"))) }
        return try ServerSettings.load(file: config, flags: flags + extraFlags)
    }

    /// Runs `body` with the store `--db` names; on PostgreSQL its pool runs for `body`'s length
    /// (`PostgresStore.withPool`): the admin commands have no ServiceGroup.
    func withStore<Result: Sendable>(_ body: (any HallpassStorage) async throws -> Result) async throws -> Result {
        let store = try await Self.openStore(try serverSettings())
        guard let postgres = store as? PostgresStore else { return try await body(store) }
        return try await postgres.withPool { try await body(postgres) }
    }

    /// The store `settings.databasePath` names: a SQLite file, or PostgreSQL for `postgres://…`
    /// (whose pool the caller runs).
    static func openStore(_ settings: ServerSettings) async throws -> any HallpassStorage {
        let path = settings.databasePath
        do {
            if settings.usesPostgres {
                return try await PostgresStore(url: path, maximumConnections: 4, shortIdle: true)
            }
            return try SQLiteStore(path: path)
        } catch {
            throw CLIError("cannot open the database at \(settings.databaseDescription): \(TerminalText.sanitize(String(describing: error)))")
        }
    }
}
