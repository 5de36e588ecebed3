import Foundation
import GRDBSQLite
import HallpassCore
import Synchronization
import HallpassStore

/// Point reads on the polling hot path, straight through SQLite's C API.
///
/// A few read-only connections, each with its statements prepared once, are lent out under a
/// mutex and used on the caller's thread. In WAL mode a reader sees every committed write and
/// never waits for the writer. This skips the per-read queue hop and transaction of a general
/// pool; everything else goes through GRDB.
final class HotReader: Sendable {
    private let idle: Mutex<[Connection]>
    private let path: String

    init(path: String, connections: Int = 4) {
        self.path = path
        self.idle = Mutex([])
        for _ in 0..<connections {
            if let connection = try? Connection(path: path) { idle.withLock { $0.append(connection) } }
        }
    }

    func withConnection<T>(_ body: (Connection) throws -> T) throws -> T {
        let connection = try idle.withLock { $0.popLast() } ?? Connection(path: path)
        defer { idle.withLock { $0.append(connection) } }
        return try body(connection)
    }

    /// One read-only SQLite connection and its prepared statements. Used by one thread at a time.
    final class Connection: @unchecked Sendable {
        private var handle: OpaquePointer?
        private var statements: [String: OpaquePointer] = [:]

        init(path: String) throws {
            let flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
            guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK else {
                let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
                sqlite3_close(handle)
                throw StoreError.corrupt("hot reader: \(message)")
            }
            sqlite3_busy_timeout(handle, 10_000)
            sqlite3_exec(handle, "PRAGMA cache_size = -1024", nil, nil, nil)
        }

        deinit {
            for statement in statements.values { sqlite3_finalize(statement) }
            sqlite3_close(handle)
        }

        /// Runs `sql` with one text argument; `row` reads the first result row, if any.
        func queryOne<T>(_ sql: String, _ argument: String, row: (Row) throws -> T) throws -> T? {
            let statement = try prepared(sql)
            defer {
                sqlite3_reset(statement)
                sqlite3_clear_bindings(statement)
            }
            let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
            sqlite3_bind_text(statement, 1, argument, -1, transient)
            switch sqlite3_step(statement) {
            case SQLITE_ROW: return try row(Row(statement: statement))
            case SQLITE_DONE: return nil
            default: throw StoreError.corrupt("hot reader: \(String(cString: sqlite3_errmsg(handle)))")
            }
        }

        private func prepared(_ sql: String) throws -> OpaquePointer {
            if let statement = statements[sql] { return statement }
            var statement: OpaquePointer?
            guard sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK,
                  let statement
            else { throw StoreError.corrupt("hot reader: \(String(cString: sqlite3_errmsg(handle)))") }
            statements[sql] = statement
            return statement
        }
    }

    /// Column access by index for the current row.
    struct Row {
        let statement: OpaquePointer

        func text(_ column: Int32) -> String? {
            guard sqlite3_column_type(statement, column) != SQLITE_NULL, let pointer = sqlite3_column_text(statement, column) else { return nil }
            return String(cString: pointer)
        }
        func int(_ column: Int32) -> Int64? {
            sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : sqlite3_column_int64(statement, column)
        }
        func double(_ column: Int32) -> Double? {
            sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : sqlite3_column_double(statement, column)
        }
    }
}
