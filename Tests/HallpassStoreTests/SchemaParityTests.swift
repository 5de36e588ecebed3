import Foundation
import GRDB
@testable import HallpassPostgres
@testable import HallpassStore
@testable import HallpassSQLite
import PostgresNIO
import Testing

/// The SQLite and PostgreSQL schemas cannot drift: both stores are opened fresh (every
/// migration applied) and their tables, columns, primary keys, unique constraints and indexes
/// compared. A difference fails unless it is listed below as a deliberate dialect difference.
@Suite struct SchemaParityTests {
    /// One table as both dialects can describe it: column names, the primary key, and every
    /// index or unique constraint as (columns, unique, partial). Names of indexes are not
    /// compared (PostgreSQL names constraints itself), nor column types (REAL vs DOUBLE
    /// PRECISION, BLOB vs BYTEA, INTEGER vs BOOLEAN are the dialects' spellings).
    struct Table: Equatable, CustomStringConvertible {
        var columns: Set<String> = []
        var primaryKey: [String] = []
        var indexes: Set<String> = []
        var description: String { "columns \(columns.sorted()), key \(primaryKey), indexes \(indexes.sorted())" }
    }

    static func index(_ columns: [String], unique: Bool, partial: Bool) -> String {
        (unique ? "UNIQUE " : "") + "(" + columns.joined(separator: ",") + ")" + (partial ? " WHERE …" : "")
    }

    /// Tables one dialect has on purpose: migration bookkeeping, SQLite's own, and the failure
    /// ledger, which SQLite keeps in memory (one process: `InMemoryFailureLedger`).
    static let onlySQLite: Set<String> = ["grdb_migrations", "sqlite_sequence"]
    static let onlyPostgres: Set<String> = ["hallpass_migrations", "failed_attempts"]

    /// `tamper` runs on the fresh SQLite schema first (to show the comparison notices drift).
    func sqliteSchema(tamper: String? = nil) async throws -> [String: Table] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hallpass-schema-\(UUID().uuidString)")
        let store = try SQLiteStore(path: directory.appendingPathComponent("schema.db").path)
        if let tamper { try await store.pool.write { try $0.execute(sql: tamper) } }
        return try await store.pool.read { db in
            var tables: [String: Table] = [:]
            for name in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") {
                var table = Table()
                let info = try Row.fetchAll(db, sql: "SELECT name, pk FROM pragma_table_info(?)", arguments: [name])
                table.columns = Set(info.map { $0["name"] as String })
                table.primaryKey = info.filter { ($0["pk"] as Int) > 0 }.sorted { ($0["pk"] as Int) < ($1["pk"] as Int) }.map { $0["name"] }
                for index in try Row.fetchAll(db, sql: "SELECT name, \"unique\", origin, partial FROM pragma_index_list(?)", arguments: [name]) {
                    if (index["origin"] as String) == "pk" { continue }
                    let columns = try String.fetchAll(db, sql: "SELECT name FROM pragma_index_info(?) ORDER BY seqno",
                                                      arguments: [index["name"] as String])
                    table.indexes.insert(Self.index(columns, unique: (index["unique"] as Int) == 1, partial: (index["partial"] as Int) == 1))
                }
                tables[name] = table
            }
            return tables
        }
    }

    func postgresSchema() async throws -> [String: Table] {
        let store = try await TestPostgres.freshStore()
        var tables: [String: Table] = [:]
        for (table, column) in try await store.all("""
            SELECT table_name::text, column_name::text FROM information_schema.columns WHERE table_schema = current_schema()
            """, { try $0.decode((String, String).self) }) {
            tables[table, default: Table()].columns.insert(column)
        }
        let indexes = try await store.all("""
            SELECT t.relname::text, ix.indisunique, ix.indisprimary, ix.indpred IS NOT NULL,
                   string_agg(a.attname::text, ',' ORDER BY k.ord)
            FROM pg_index ix
            JOIN pg_class t ON t.oid = ix.indrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE n.nspname = current_schema()
            GROUP BY ix.indexrelid, t.relname, ix.indisunique, ix.indisprimary, ix.indpred
            """, { try $0.decode((String, Bool, Bool, Bool, String).self) })
        for (table, unique, primary, partial, columns) in indexes {
            let names = columns.split(separator: ",").map(String.init)
            if primary { tables[table, default: Table()].primaryKey = names; continue }
            tables[table, default: Table()].indexes.insert(Self.index(names, unique: unique, partial: partial))
        }
        return tables
    }

    @Test func bothStoresHaveTheSameTablesColumnsKeysAndIndexes() async throws {
        let sqlite = try await sqliteSchema()
        let postgres = try await postgresSchema()
        #expect(Set(sqlite.keys).subtracting(Self.onlySQLite) == Set(postgres.keys).subtracting(Self.onlyPostgres),
                "tables differ: SQLite \(sqlite.keys.sorted()), PostgreSQL \(postgres.keys.sorted())")
        for name in Set(sqlite.keys).intersection(postgres.keys).sorted() {
            #expect(sqlite[name] == postgres[name], "\(name): SQLite \(sqlite[name]!) vs PostgreSQL \(postgres[name]!)")
        }
        // The comparison has teeth: the guards it exists for are there on both sides.
        let guarded = Self.index(["grant_id"], unique: true, partial: false)
        #expect(sqlite["token_families"]?.indexes.contains(guarded) == true)
        #expect(postgres["refresh_tokens"]?.indexes.contains(Self.index(["parent_hash"], unique: true, partial: false)) == true)
        #expect(sqlite["device_grants"]?.indexes.contains(Self.index(["user_code"], unique: true, partial: true)) == true)
        // A guard dropped on one side is seen.
        let drifted = try await sqliteSchema(tamper: "DROP INDEX refresh_tokens_parent_hash_key")
        #expect(drifted["refresh_tokens"] != postgres["refresh_tokens"])
    }
}

/// A use whose keys were all retired (by an older binary's `keys rotate`, during a rolling
/// upgrade) gets a new first key: retired keys do not count as "has a key".
@Suite struct FirstKeyAfterRetirementTests {
    @Test func aUseWithOnlyRetiredKeysGetsANewKey() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hallpass-keys-\(UUID().uuidString)")
        let store = try SQLiteStore(path: directory.appendingPathComponent("keys.db").path)
        let key = { (n: UInt8) in SigningKeyRecord(kid: "k\(n)", algorithm: .rs256, privateKey: Data([n]), createdAt: Date()) }
        #expect(try await store.addFirstKey(key(1)))
        #expect(try await store.addFirstKey(key(2)) == false)
        try await store.pool.write { try $0.execute(sql: "UPDATE signing_keys SET retired_at = 1") }
        #expect(try await store.addFirstKey(key(3)))
    }
}
