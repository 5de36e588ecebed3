import Foundation
import GRDB

/// `hallpass backup` and `hallpass restore` (issue 21): whole-database copies made with SQLite's
/// online backup API (https://www.sqlite.org/backup.html).
///
/// A backup runs beside a serving replica: it copies every page in one step inside one read
/// transaction, so the copy is the database as of one commit (WAL readers do not block the
/// server's writers, nor they it), and everything committed before the backup began is in it.
/// A copy is written beside its destination under a temporary name, checked
/// (`PRAGMA integrity_check`, Hallpass's migrations), made durable, and only then renamed into
/// place, so a failed backup or restore never leaves half a file where a database belongs.
public enum SQLiteBackup {
    public enum Failure: Error, Equatable, CustomStringConvertible {
        case exists(String)
        case missing(String)
        case notHallpass(String, why: String)
        case newer(String, unknown: [String])
        case inUse(String)
        case failed(String)

        public var description: String {
            switch self {
            case .exists(let path): "\(path) already exists; choose a new file name"
            case .missing(let path): "there is no database at \(path)"
            case .notHallpass(let path, let why): "\(path) is not a Hallpass database: \(why)"
            case .newer(let path, let unknown):
                "\(path) was written by a newer Hallpass (migrations this one does not know: \(unknown.joined(separator: ", "))); restore it with that version"
            case .inUse(let path): "\(path) is in use: stop `hallpass serve` (and any other hallpass command using it) first"
            case .failed(let why): why
            }
        }
    }

    /// What a copy holds, for the command's report.
    public struct Summary: Sendable, Equatable {
        public var bytes: Int
        public var migrations: Int
        public var grants: Int
        public var users: Int
    }

    /// Copies the database at `source` to the new file `destination` (never overwritten), mode 0600.
    public static func backup(from source: String, to destination: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: source) else { throw Failure.missing(source) }
        guard !FileManager.default.fileExists(atPath: destination) else { throw Failure.exists(destination) }
        return try copy(from: source, into: destination, replacing: false)
    }

    /// Replaces the database at `target` with the backup `file`, which must be a Hallpass database
    /// this version can open. Refused while any hallpass process has `target` open
    /// (`DatabaseLock`). The replaced database is moved aside as `target.replaced-TIMESTAMP`
    /// (returned), and moved back if the restore fails.
    public static func restore(from file: String, to target: String, now: Date = Date()) throws -> (Summary, replaced: String?) {
        guard FileManager.default.fileExists(atPath: file) else { throw Failure.missing(file) }
        _ = try inspect(file)   // before touching the target
        let lock = try DatabaseLock.exclusive(forDatabase: target)
        defer { lock.release() }
        // Run as root (sudo), the restored file still belongs to whoever owns the database it
        // replaces (or its directory): the service's user must be able to open it.
        let owner = Self.owner(of: FileManager.default.fileExists(atPath: target)
                               ? target : URL(fileURLWithPath: target).deletingLastPathComponent().path)
        var replaced: String?
        if FileManager.default.fileExists(atPath: target) {
            let stamp = ISO8601DateFormatter.string(from: now, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withYear, .withMonth, .withDay, .withTime])
            let kept = "\(target).replaced-\(stamp)"
            // Moved aside as it is (with its WAL, which holds its last commits), even if it is
            // damaged: nothing has it open while the lock is held.
            guard !FileManager.default.fileExists(atPath: kept) else { throw Failure.exists(kept) }
            try move(target, to: kept)
            replaced = kept
        }
        do {
            return (try copy(from: file, into: target, replacing: true, owner: owner), replaced)
        } catch {
            if let replaced { try? move(replaced, to: target) }
            throw error
        }
    }

    /// Renames a database and its WAL together (the first back if the second fails); its
    /// shared-memory index is rebuilt when next opened.
    static func move(_ database: String, to destination: String) throws {
        var moved: [String] = []
        for suffix in ["", "-wal"] where FileManager.default.fileExists(atPath: database + suffix) {
            guard rename(database + suffix, destination + suffix) == 0 else {
                let why = String(cString: strerror(errno))
                for done in moved.reversed() { rename(destination + done, database + done) }
                throw Failure.failed("cannot move \(database + suffix) aside: \(why)")
            }
            moved.append(suffix)
        }
        try? FileManager.default.removeItem(atPath: database + "-shm")
    }

    /// The owner to give a restored file when running as root; nil otherwise.
    static func owner(of path: String) -> (uid: uid_t, gid: gid_t)? {
        var info = stat()
        guard geteuid() == 0, stat(path, &info) == 0 else { return nil }
        return (info.st_uid, info.st_gid)
    }

    /// Opens `path` read-only and checks it is a whole Hallpass database this version knows.
    public static func inspect(_ path: String) throws -> Summary {
        try SQLiteStore.inspect(path: path).summary
    }

    static func summary(of db: Database, path: String) throws -> Summary {
        do {
            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            guard integrity == ["ok"] else {
                throw Failure.notHallpass(path, why: "integrity check: \(integrity.prefix(3).joined(separator: "; "))")
            }
            guard try db.tableExists("grdb_migrations"), try db.tableExists("device_grants") else {
                throw Failure.notHallpass(path, why: "it has no Hallpass tables")
            }
            let migrator = SQLiteStore.migrator
            let known = Set(migrator.migrations)
            let applied = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
            let unknown = applied.filter { !known.contains($0) }
            guard unknown.isEmpty else { throw Failure.newer(path, unknown: unknown) }
            let pageCount = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            return Summary(bytes: pageCount * pageSize, migrations: applied.count,
                           grants: try Int.fetchOne(db, sql: "SELECT count(*) FROM device_grants") ?? 0,
                           users: try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure.notHallpass(path, why: Self.reason(error))
        }
    }

    /// The copy itself: the backup API into a temporary file beside `destination`, checked,
    /// switched to a rollback journal (one self-contained file), fsynced, renamed, directory
    /// fsynced.
    static func copy(from source: String, into destination: String, replacing: Bool,
                     owner: (uid: uid_t, gid: gid_t)? = nil) throws -> Summary {
        let directory = URL(fileURLWithPath: destination).deletingLastPathComponent().path
        let partial = "\(directory)/.\(URL(fileURLWithPath: destination).lastPathComponent).partial-\(getpid())"
        let fm = FileManager.default
        try? fm.removeItem(atPath: partial)
        defer { for suffix in ["", "-wal", "-shm", "-journal"] { try? fm.removeItem(atPath: partial + suffix) } }
        let summary: Summary
        do {
            var sourceConfiguration = Configuration()
            sourceConfiguration.busyMode = .timeout(10)
            // Read-only: a database moved aside meanwhile is not re-created empty, and closing
            // this connection does not checkpoint a live WAL.
            sourceConfiguration.readonly = true
            let from = try DatabaseQueue(path: source, configuration: sourceConfiguration)
            defer { try? from.close() }
            guard fm.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw Failure.failed("cannot create a file in \(directory)")
            }
            let to = try DatabaseQueue(path: partial)
            try from.backup(to: to)
            try to.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
            summary = try to.read { db in try Self.summary(of: db, path: source) }
            try to.close()
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure.failed("copying \(source): \(Self.reason(error))")
        }
        if let owner, chown(partial, owner.uid, owner.gid) != 0 {
            throw Failure.failed("cannot give \(destination) to uid \(owner.uid): \(String(cString: strerror(errno)))")
        }
        try sync(partial)
        if replacing {
            for suffix in ["-wal", "-shm", "-journal"] { try? fm.removeItem(atPath: destination + suffix) }
            guard rename(partial, destination) == 0 else { throw Failure.failed("cannot rename into \(destination): \(String(cString: strerror(errno)))") }
        } else {
            // link(2) refuses an existing name, so a file that appeared meanwhile is never replaced.
            // File systems without hard links (vfat, exFAT, some CIFS mounts) refuse it: there the
            // name is checked, then renamed to.
            if link(partial, destination) != 0 {
                let failure = errno
                if failure == EEXIST { throw Failure.exists(destination) }
                guard [EPERM, EOPNOTSUPP, EMLINK, ENOSYS].contains(failure) else {
                    throw Failure.failed("cannot write \(destination): \(String(cString: strerror(failure)))")
                }
                guard !fm.fileExists(atPath: destination) else { throw Failure.exists(destination) }
                guard rename(partial, destination) == 0 else {
                    throw Failure.failed("cannot write \(destination): \(String(cString: strerror(errno)))")
                }
            }
        }
        try sync(directory)
        return summary
    }

    static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure.failed("cannot open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure.failed("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }

    static func reason(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return error.message ?? "SQLite error \(error.resultCode.rawValue)" }
        return String(describing: error)
    }
}
