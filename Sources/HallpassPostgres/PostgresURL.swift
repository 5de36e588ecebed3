import Foundation
import NIOSSL
import PostgresNIO

/// `postgres://user:password@host:port/database?sslmode=disable|prefer|require`, parsed once and
/// turned into the pool's and a single connection's configuration.
struct PostgresURL: Sendable {
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    enum SSLMode: String, Sendable { case disable, prefer, require }

    let host: String
    let port: Int
    let user: String
    let password: String?
    let database: String?
    let sslMode: SSLMode

    static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    init(_ text: String) throws {
        guard Self.isPostgres(text), let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
            throw Invalid(description: "not a PostgreSQL URL (postgres://user:password@host:port/database)")
        }
        guard let user = url.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw Invalid(description: "the PostgreSQL URL names no user")
        }
        self.host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        port = url.port ?? 5432
        self.user = user
        password = url.percentEncodedPassword?.removingPercentEncoding
        database = url.path.count > 1 ? String(url.path.dropFirst()) : nil
        let mode = url.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        switch mode {
        case "disable": sslMode = .disable
        case "allow", "prefer": sslMode = .prefer
        case "require", "verify-ca", "verify-full": sslMode = .require
        default: throw Invalid(description: "sslmode \(mode) is not one of disable, prefer, require")
        }
    }

    var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS = switch sslMode {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS = switch sslMode {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: user, password: password,
                                                             database: database, tls: tls)
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }

    /// One connection, opened once, for a precise error before the pool (which retries quietly)
    /// takes over: refused, unreachable, wrong password, no such database.
    func probe(logger: Logger) async throws -> PostgresConnection {
        do {
            return try await PostgresConnection.connect(configuration: try connectionConfiguration(), id: 0, logger: logger)
        } catch let error as PSQLError {
            throw Invalid(description: Self.explain(error, host: host, port: port))
        }
    }

    static func explain(_ error: PSQLError, host: String, port: Int) -> String {
        if let message = error.serverInfo?[.message] { return "PostgreSQL at \(host):\(port) says: \(message)" }
        if let underlying = error.underlying { return "cannot connect to PostgreSQL at \(host):\(port): \(underlying)" }
        return "cannot connect to PostgreSQL at \(host):\(port) (\(error.code))"
    }
}
