import Foundation
import HallpassServer
import HallpassStore

extension StoreOptions {
    /// The configuration in effect for this command: defaults, file, environment, then `--db`.
    func serverConfiguration() throws -> ServerConfiguration {
        var configuration = try ConfigurationLoader.load(file: config)
        if let db { configuration.databasePath = db }
        return configuration
    }

    func openStore() throws -> SQLiteStore {
        let path = try serverConfiguration().databasePath
        do {
            return try SQLiteStore(path: path)
        } catch {
            throw CLIError("cannot open the database at \(path): \(error)")
        }
    }
}
