import Foundation
import HallpassCore
import HallpassPostgres
import HallpassServer
import HallpassStore
import HallpassSQLite

extension StoreOptions {
    /// The configuration in effect for this command: defaults, file, environment, then `--db`.
    func serverConfiguration() throws -> ServerConfiguration {
        var configuration = try ConfigurationLoader.load(file: config)
        if let db { configuration.databasePath = db }
        return configuration
    }

    /// The store `--db` names: a SQLite file, or PostgreSQL for `postgres://…`.
    func openStore() async throws -> any HallpassStorage {
        let configuration = try serverConfiguration()
        let path = configuration.databasePath
        do {
            if configuration.usesPostgres {
                return try await PostgresStore(url: path, maximumConnections: 4)
            }
            return try SQLiteStore(path: path)
        } catch {
            throw CLIError("cannot open the database at \(configuration.databaseDescription): \(TerminalText.sanitize(String(describing: error)))")
        }
    }
}
