import Foundation
import HallpassCore
import HallpassStore
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// The store for several replicas: one PostgreSQL database shared by every `hallpass serve`
/// (ARCHITECTURE.md §1). Same protocols and the same rules as `SQLiteStore`; races between replicas are
/// settled by conditional updates inside transactions, with unique constraints as a second guard.
public final class PostgresStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    let url: PostgresURL

    /// Connects to `url` (`postgres://user:password@host:port/database[?sslmode=disable|prefer|require]`)
    /// over one connection, which gives a readable error for a bad URL and applies the migrations
    /// (safe when several replicas start at once). No query runs on the store until its `pool`
    /// runs: in `serve`'s ServiceGroup, or `withPool` for a command.
    ///
    /// `shortIdle` (what `serve` uses): a connection idle for 5 s is closed, and there are no
    /// keep-alive queries. postgres-nio arms an idle timer (60 s by default) and a keep-alive
    /// timer (30 s) each time a connection goes back to the pool, and a cancelled timer's sleep
    /// stays scheduled until its deadline: under load that held about 4.5 KiB per request for a
    /// minute (the soak, BENCHMARKS.md). With a 5 s idle timeout a cancelled timer lingers 5 s at
    /// most, and an idle connection is closed before a keep-alive would have run. (Keeping all
    /// connections open instead, `minimumConnections = maximumConnections`, can trip a
    /// precondition in postgres-nio 1.33's pool after the database restarts under load.)
    public init(url: String, logger: Logger = PostgresStore.quietLogger, maximumConnections: Int = 20,
                shortIdle: Bool = false) async throws {
        let parsed = try PostgresURL(url)
        let probe = try await parsed.probe(logger: logger)
        do {
            try await Self.migrate(on: probe, logger: logger)
        } catch {
            try? await probe.close()
            throw error
        }
        try? await probe.close()
        var configuration = parsed.clientConfiguration
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        if shortIdle {
            configuration.options.connectionIdleTimeout = .seconds(5)
            configuration.options.keepAliveBehavior = nil
        }
        configuration.options.connectTimeout = .seconds(10)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.url = parsed
        self.logger = logger
    }

    /// The connection pool (postgres-nio's `PostgresClient`), a Service: `serve` lists it first in
    /// its ServiceGroup, so it stops last.
    public var pool: any Service { client }

    /// Runs the pool for the length of `body`, in a task group scoped to it: how a command
    /// without a ServiceGroup (`users`, `clients`, …) uses the store.
    public func withPool<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.client.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Connection trouble is reported by the calls that meet it; the pool's own retries stay quiet.
    public static var quietLogger: Logger {
        var logger = Logger(label: "hallpass.postgres")
        logger.logLevel = .critical
        return logger
    }

    /// Runs `body` in one transaction on one connection: committed when it returns, rolled back
    /// when it throws (the error comes out as thrown, not wrapped).
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// Runs a statement and returns how many rows it reported through `RETURNING`.
    @discardableResult
    static func count(_ query: PostgresQuery, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        var count = 0
        for try await _ in try await connection.query(query, logger: logger) { count += 1 }
        return count
    }

    @discardableResult
    func count(_ query: PostgresQuery) async throws -> Int {
        try await client.withConnection { connection in try await Self.count(query, on: connection, logger: logger) }
    }

    /// The first row of `query` decoded as `Row`, if any.
    func first<Row: Sendable>(_ query: PostgresQuery, _ decode: (PostgresRow) throws -> Row) async throws -> Row? {
        try await client.withConnection { connection in
            for try await row in try await connection.query(query, logger: logger) { return try decode(row) }
            return nil
        }
    }

    func all<Row: Sendable>(_ query: PostgresQuery, _ decode: (PostgresRow) throws -> Row) async throws -> [Row] {
        try await client.withConnection { connection in
            var rows: [Row] = []
            for try await row in try await connection.query(query, logger: logger) { rows.append(try decode(row)) }
            return rows
        }
    }
}

/// Is this PostgreSQL's unique_violation (SQLSTATE 23505)?
func isUniqueViolation(_ error: any Error) -> Bool {
    (error as? PSQLError)?.serverInfo?[.sqlState] == "23505"
}

extension PostgresStore {
    /// Creates an empty database on the server `url` points at, over one connection (no pool,
    /// no migrations there); for tests. `name` must be a plain lower-case identifier.
    public static func createDatabase(named name: String, on url: String, logger: Logger = quietLogger) async throws {
        guard !name.isEmpty, name.count <= 63,
              name.allSatisfy({ ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "_" })
        else { throw PostgresURL.Invalid(description: "database name \(name) is not a plain identifier") }
        let connection = try await PostgresConnection.connect(configuration: try PostgresURL(url).connectionConfiguration(),
                                                              id: 2, logger: logger)
        do {
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}
