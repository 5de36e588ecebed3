import Foundation
import Logging
import PostgresNIO

/// What `hallpass doctor` needs to know about a PostgreSQL database (issue 21), read on one
/// connection without changing anything (opening a `PostgresStore` would migrate).
public struct PostgresStatus: Sendable {
    /// Migrations recorded in `hallpass_migrations` (empty: none, or no such table).
    public var applied: [String]
    /// Every migration this version has.
    public var known: [String]
    /// A hot standby (`pg_is_in_recovery()`): nothing can be written.
    public var readOnly: Bool
    /// The connecting role may insert into `device_grants` (false before the first migration).
    public var canWrite: Bool
    /// The database server's clock.
    public var serverTime: Date
}

extension PostgresStore {
    public static func status(url: String, logger: Logger = PostgresStore.quietLogger) async throws -> PostgresStatus {
        let connection = try await PostgresURL(url).probe(logger: logger)
        do {
            var applied: [String] = []
            var hasTable = false
            for try await exists in try await connection.query("SELECT to_regclass('hallpass_migrations') IS NOT NULL", logger: logger).decode(Bool.self) {
                hasTable = exists
            }
            if hasTable {
                for try await name in try await connection.query("SELECT name FROM hallpass_migrations ORDER BY applied_at, name", logger: logger).decode(String.self) {
                    applied.append(name)
                }
            }
            var readOnly = false, canWrite = false, serverTime = Date()
            let rows = try await connection.query("""
                SELECT pg_is_in_recovery(),
                       to_regclass('device_grants') IS NOT NULL AND has_table_privilege('device_grants', 'INSERT'),
                       extract(epoch FROM clock_timestamp())::float8
                """, logger: logger)
            for try await (recovery, insert, epoch) in rows.decode((Bool, Bool, Double).self) {
                (readOnly, canWrite, serverTime) = (recovery, insert, Date(timeIntervalSince1970: epoch))
            }
            try? await connection.close()
            return PostgresStatus(applied: applied, known: migrations.map(\.name), readOnly: readOnly,
                                  canWrite: canWrite && !readOnly, serverTime: serverTime)
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
