import Foundation

/// Who has a SQLite database open, across processes (issue 21): every `SQLiteStore` holds a
/// shared `flock(2)` on `DB.lock` beside the database for its lifetime, and `hallpass restore`
/// takes it exclusively, so a restore never replaces a file under a running server or admin
/// command, and nothing opens a database while it is being replaced.
///
/// A separate file, not the database: closing any descriptor of the database file would drop
/// SQLite's own POSIX locks on it (https://www.sqlite.org/howtocorrupt.html §2.2), and `flock`
/// locks never interact with those. The lock is released when the object goes away (or the
/// process ends, however it ends).
public final class DatabaseLock: Sendable {
    let descriptor: Int32

    private init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    public static func path(forDatabase database: String) -> String { database + ".lock" }

    /// The shared lock of a store. Nil only on a read-only file system, where no restore can
    /// happen either; any other failure to open the lock file is an error (running without the
    /// lock would let a restore replace the database under this process).
    public static func shared(forDatabase database: String) throws -> DatabaseLock? {
        guard let lock = open(path(forDatabase: database)) else {
            if errno == EROFS { return nil }
            throw SQLiteBackup.Failure.failed("cannot open \(path(forDatabase: database)): \(String(cString: strerror(errno))) (it must belong to the user that runs hallpass, like the database)")
        }
        guard flock(lock.descriptor, LOCK_SH | LOCK_NB) == 0 else {
            throw SQLiteBackup.Failure.failed("\(database) is being restored (`hallpass restore` holds \(path(forDatabase: database))); try again when it has finished")
        }
        return lock
    }

    /// The exclusive lock of a restore; fails at once if anything has the database open.
    public static func exclusive(forDatabase database: String) throws -> DatabaseLock {
        guard let lock = open(path(forDatabase: database)) else {
            throw SQLiteBackup.Failure.failed("cannot create \(path(forDatabase: database)): \(String(cString: strerror(errno)))")
        }
        guard flock(lock.descriptor, LOCK_EX | LOCK_NB) == 0 else { throw SQLiteBackup.Failure.inUse(database) }
        return lock
    }

    private static func open(_ path: String) -> DatabaseLock? {
        let fd = Foundation.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        // An admin command run as root must not leave a lock file the service's user cannot
        // open: like SQLite with its -wal and -shm files, give it the database's owner.
        var database = stat()
        if geteuid() == 0, stat(String(path.dropLast(".lock".count)), &database) == 0 {
            _ = fchown(fd, database.st_uid, database.st_gid)
        }
        return DatabaseLock(descriptor: fd)
    }

    /// Releases the lock now (the descriptor closes when the object goes away).
    public func release() { flock(descriptor, LOCK_UN) }
}
