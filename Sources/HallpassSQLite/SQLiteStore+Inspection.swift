import Foundation
import GRDB

/// What `hallpass doctor` reads from a SQLite database (issue 21), on a read-only connection:
/// nothing is migrated, created or written.
public struct SQLiteInspection: Sendable {
    public struct Key: Sendable {
        public var algorithm: String
        public var createdAt: Date
        public var retired: Bool
    }

    /// Migrations applied, and every migration this version has.
    public var applied: [String]
    public var known: [String]
    public var summary: SQLiteBackup.Summary
    public var keys: [Key]
}

extension SQLiteStore {
    /// Reads `path` read-only. Throws `SQLiteBackup.Failure` when it is not a Hallpass database
    /// (`.notHallpass`, also for a file without Hallpass's tables) or a newer one (`.newer`).
    public static func inspect(path: String) throws -> SQLiteInspection {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
        } catch {
            throw SQLiteBackup.Failure.notHallpass(path, why: "SQLite cannot open it (\(SQLiteBackup.reason(error)))")
        }
        defer { try? queue.close() }
        return try queue.read { db in
            let summary = try SQLiteBackup.summary(of: db, path: path)
            let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            var keys: [SQLiteInspection.Key] = []
            if try db.tableExists("signing_keys") {
                for row in try Row.fetchAll(db, sql: "SELECT algorithm, created_at, retired_at FROM signing_keys") {
                    keys.append(.init(algorithm: row[0], createdAt: Date(timeIntervalSince1970: row[1]),
                                      retired: (row[2] as Double?) != nil))
                }
            }
            return SQLiteInspection(applied: applied, known: migrator.migrations, summary: summary, keys: keys)
        }
    }
}
