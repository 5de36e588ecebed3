import Foundation
import HallpassCore
import HallpassPostgres
import HallpassStore
import HallpassSQLite
import Testing

/// The stores the conformance suite runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// A fresh, empty store of one kind for one test: a new SQLite file, or a new database in the
/// test PostgreSQL (`HALLPASS_TEST_POSTGRES`, which `scripts/test.sh` starts and sets). Without
/// it the PostgreSQL cases fail, they never skip.
struct TestStore {
    let store: any HallpassStorage

    static func make(_ kind: StoreKind) async throws -> TestStore {
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hallpass-store-\(UUID().uuidString)")
            return TestStore(store: try SQLiteStore(path: directory.appendingPathComponent("test.db").path))
        case .postgres:
            return TestStore(store: try await TestPostgres.freshStore())
        }
    }
}

enum TestPostgres {
    struct NotConfigured: Error, CustomStringConvertible {
        let description = "HALLPASS_TEST_POSTGRES is not set: run scripts/test.sh, or eval \"$(scripts/throwaway-postgres.sh start)\" first"
    }

    static var baseURL: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["HALLPASS_TEST_POSTGRES"], !url.isEmpty else { throw NotConfigured() }
            return url
        }
    }

    /// A new database on the test server, migrated, as a store.
    static func freshStore() async throws -> PostgresStore {
        try await runningStore(url: freshDatabaseURL())
    }

    /// A store on `url` whose pool runs for the rest of the test process (`serve` runs it in its
    /// ServiceGroup, the admin commands in `withPool`).
    static func runningStore(url: String) async throws -> PostgresStore {
        let store = try await PostgresStore(url: url)
        Task { try? await store.pool.run() }
        return store
    }

    /// A new, empty database on the test server.
    static func freshDatabaseURL() async throws -> String {
        let base = try baseURL
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await PostgresStore.createDatabase(named: name, on: base)
        return try replacingDatabase(in: base, with: name)
    }

    static func replacingDatabase(in url: String, with name: String) throws -> String {
        guard var components = URLComponents(string: url) else { throw NotConfigured() }
        components.path = "/" + name
        return components.string ?? url
    }
}
