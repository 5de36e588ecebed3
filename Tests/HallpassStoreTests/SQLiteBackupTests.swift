import Foundation
import GRDB
import HallpassCore
import HallpassStore
import HallpassSQLite
import NIOConcurrencyHelpers
import Testing

/// `hallpass backup` and `restore` (issue 21): SQLite's online backup API beside a writer.
@Suite struct SQLiteBackupTests {
    func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("hallpass-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func aBackupTakenDuringWritesHoldsEveryWriteAcknowledgedBeforeIt() async throws {
        let directory = try temporaryDirectory()
        let path = directory.appendingPathComponent("live.db").path
        let store = try SQLiteStore(path: path)
        let acknowledged = NIOLockedValueBox<[String]>([])
        let writer = Task {
            var n = 0
            while !Task.isCancelled && n < 5_000 {
                let name = "user\(n)"
                _ = try await store.addUser(name: name, passwordHash: "x")
                acknowledged.withLockedValue { $0.append(name) }
                n += 1
            }
        }
        while acknowledged.withLockedValue({ $0.count }) < 200 { try await Task.sleep(for: .milliseconds(5)) }
        let before = Set(acknowledged.withLockedValue { $0 })
        let copy = directory.appendingPathComponent("copy.db").path
        let summary = try SQLiteBackup.backup(from: path, to: copy)
        // The writer was never stopped by the backup: it goes on at once.
        while acknowledged.withLockedValue({ $0.count }) < before.count + 50 { try await Task.sleep(for: .milliseconds(5)) }
        writer.cancel()
        if case .failure(let error) = await writer.result { #expect(error is CancellationError) }
        #expect(summary.users >= before.count)

        var mode = stat()
        #expect(stat(copy, &mode) == 0 && mode.st_mode & 0o777 == 0o600)
        #expect(!FileManager.default.fileExists(atPath: copy + "-wal"))
        let restored = try SQLiteStore(path: copy)
        for name in before {
            #expect(try await restored.user(named: name) != nil, "\(name) was acknowledged before the backup began")
        }
    }

    @Test func aBackupNeverOverwrites() throws {
        let directory = try temporaryDirectory()
        let path = directory.appendingPathComponent("h.db").path
        _ = try SQLiteStore(path: path)
        let existing = directory.appendingPathComponent("taken.db").path
        FileManager.default.createFile(atPath: existing, contents: Data("keep me".utf8))
        #expect(throws: SQLiteBackup.Failure.exists(existing)) { try SQLiteBackup.backup(from: path, to: existing) }
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "keep me")
        #expect(throws: SQLiteBackup.Failure.missing(directory.appendingPathComponent("none.db").path)) {
            try SQLiteBackup.backup(from: directory.appendingPathComponent("none.db").path, to: directory.appendingPathComponent("x.db").path)
        }
    }

    @Test func aRestoreWaitsForEveryStoreToCloseThenReplacesAndKeepsTheOld() async throws {
        let directory = try temporaryDirectory()
        let path = directory.appendingPathComponent("h.db").path
        let backup = directory.appendingPathComponent("backup.db").path
        do {
            let store = try SQLiteStore(path: path)
            _ = try await store.addUser(name: "before", passwordHash: "x")
            _ = try SQLiteBackup.backup(from: path, to: backup)
            _ = try await store.addUser(name: "after", passwordHash: "x")
            #expect(throws: SQLiteBackup.Failure.inUse(path)) { try SQLiteBackup.restore(from: backup, to: path) }
        }
        // The store is gone: its lock with it.
        let (summary, replaced) = try SQLiteBackup.restore(from: backup, to: path, now: Date(timeIntervalSince1970: 1_796_000_000))
        #expect(summary.users == 1)
        #expect(replaced == path + ".replaced-20261130T005320")
        let restored = try SQLiteStore(path: path)
        #expect(try await restored.user(named: "before") != nil)
        #expect(try await restored.user(named: "after") == nil)
        let kept = try SQLiteStore(path: try #require(replaced))
        #expect(try await kept.user(named: "after") != nil)
        // While a store is open, nothing else may restore, and a restore in progress keeps stores out.
        #expect(throws: SQLiteBackup.Failure.inUse(path)) { try SQLiteBackup.restore(from: backup, to: path) }
    }

    @Test func onlyAHallpassDatabaseThisVersionKnowsIsRestored() throws {
        let directory = try temporaryDirectory()
        let target = directory.appendingPathComponent("h.db").path
        let notSQLite = directory.appendingPathComponent("notes.txt").path
        FileManager.default.createFile(atPath: notSQLite, contents: Data(repeating: 0x41, count: 4096))
        #expect { try SQLiteBackup.restore(from: notSQLite, to: target) } throws: { error in
            guard case .notHallpass(notSQLite, _)? = error as? SQLiteBackup.Failure else { return false }
            return true
        }
        #expect(!FileManager.default.fileExists(atPath: target))

        let newer = directory.appendingPathComponent("newer.db").path
        _ = try SQLiteStore(path: newer)
        try DatabaseQueue(path: newer).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
        }
        #expect(throws: SQLiteBackup.Failure.newer(newer, unknown: ["v99-from-the-future"])) {
            try SQLiteBackup.restore(from: newer, to: target)
        }
        #expect(throws: SQLiteBackup.Failure.newer(newer, unknown: ["v99-from-the-future"])) { try SQLiteStore.inspect(path: newer) }
        #expect(!FileManager.default.fileExists(atPath: target))
    }
}
