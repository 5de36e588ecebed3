import ArgumentParser
import Foundation
import HallpassCore
import HallpassSQLite

/// `hallpass backup FILE` (issue 21): a consistent copy of the SQLite database while the server
/// runs, with SQLite's online backup API (`SQLiteBackup`). PostgreSQL is backed up with its own
/// tools (`pg_dump`; README "Installing on Debian").
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the SQLite database to a new file while the server runs.",
        discussion: """
        The copy holds everything committed before the backup began, is checked (SQLite's \
        integrity check and Hallpass's migrations) and is written as one file, mode 0600. An \
        existing FILE is never overwritten. For PostgreSQL use pg_dump.
        """)

    @OptionGroup var store: StoreOptions

    @Argument(help: "The new file to write.")
    var file: String

    func run() async throws {
        try await runReporting {
            let settings = try store.serverSettings()
            guard !settings.usesPostgres else {
                throw CLIError("the database is on PostgreSQL: back it up with pg_dump (see the README)")
            }
            let summary = try withBackupErrors { try SQLiteBackup.backup(from: settings.databasePath, to: file) }
            writeOut(TerminalText.sanitize("hallpass: backed up \(settings.databasePath) to \(file): \(summary.shown)"))
        }
    }
}

/// `hallpass restore FILE` (issue 21): puts a backup in the database's place while nothing uses it.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the SQLite database with a backup; the server must be stopped.",
        discussion: """
        Refused while `hallpass serve` or any other hallpass command has the database open. The \
        database it replaces is kept beside it as DB.replaced-TIMESTAMP. Tokens issued after the \
        backup was made stop working (their refresh tokens and grants are not in it); tokens \
        revoked after it work again until they expire: see the README on restoring.
        """)

    @OptionGroup var store: StoreOptions

    @Argument(help: "The backup to restore (made by hallpass backup).")
    var file: String

    func run() async throws {
        try await runReporting {
            let settings = try store.serverSettings()
            guard !settings.usesPostgres else {
                throw CLIError("the database is on PostgreSQL: restore it with pg_restore or psql (see the README)")
            }
            let (summary, replaced) = try withBackupErrors { try SQLiteBackup.restore(from: file, to: settings.databasePath) }
            writeOut(TerminalText.sanitize("hallpass: restored \(file) into \(settings.databasePath): \(summary.shown)"))
            if let replaced { writeOut(TerminalText.sanitize("hallpass: the database it replaced is kept as \(replaced)")) }
        }
    }
}

/// A backup failure is one line naming the file and what to do.
private func withBackupErrors<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let failure as SQLiteBackup.Failure {
        throw CLIError(failure.description)
    }
}

extension SQLiteBackup.Summary {
    var shown: String {
        "\(bytes / 1024) KiB, \(users) user\(users == 1 ? "" : "s"), \(grants) grant\(grants == 1 ? "" : "s"), \(migrations) migrations"
    }
}
