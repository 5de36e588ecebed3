import CHallpassPTY
import Foundation

/// A child process on its own pseudo-terminal (the C shim around `forkpty` + `execve`).
struct PTYProcess: Sendable {
    let pid: pid_t
    /// The master side: what the child writes to its terminal is read here, and vice versa.
    let master: Int32

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    static func spawn(executable: String, arguments: [String], environment: [String: String],
                      size: TerminalSize) throws -> PTYProcess {
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var master: Int32 = -1
        let pid = hp_pty_spawn(executable, argv, envp, UInt16(size.rows), UInt16(size.columns), &master)
        guard pid > 0 else { throw SpawnError(description: "cannot start the consent screen: \(String(cString: strerror(errno)))") }
        return PTYProcess(pid: pid, master: master)
    }

    func resize(_ size: TerminalSize) {
        _ = hp_pty_resize(master, UInt16(size.rows), UInt16(size.columns))
    }

    func hangUp() {
        kill(pid, SIGHUP)
    }

    /// Waits (on its own thread) for the child to end; its exit status, or 128 + the signal.
    func reap() async -> Int {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                let code = status & 0x7F == 0 ? Int((status >> 8) & 0xFF) : 128 + Int(status & 0x7F)
                continuation.resume(returning: code)
            }
        }
    }
}

/// A terminal size, clamped to what a consent screen can sensibly use.
struct TerminalSize: Equatable, Sendable {
    var columns: Int
    var rows: Int

    init(columns: Int, rows: Int) {
        self.columns = min(max(columns == 0 ? 80 : columns, 20), 500)
        self.rows = min(max(rows == 0 ? 24 : rows, 5), 300)
    }
}
