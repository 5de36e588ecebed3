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

    /// The child's fd on which `handover` can be read, once, to its end.
    static let handoverDescriptor: Int32 = 3

    /// Starts `executable` on a new PTY. `handover` (a secret for the child) is written into a
    /// pipe whose read end becomes the child's fd 3: never in argv or the environment (which
    /// `/proc/PID/environ` and `ps e` show), and gone once the child has read it.
    static func spawn(executable: String, arguments: [String], environment: [String: String],
                      size: TerminalSize, handover: String? = nil) throws -> PTYProcess {
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var readEnd: Int32 = -1
        if let handover {
            readEnd = try handoverPipe(carrying: handover)
        }
        defer { if readEnd >= 0 { close(readEnd) } }
        var master: Int32 = -1
        let pid = hp_pty_spawn(executable, argv, envp, UInt16(size.rows), UInt16(size.columns), readEnd, &master)
        guard pid > 0 else { throw SpawnError(description: "cannot start the consent screen: \(String(cString: strerror(errno)))") }
        return PTYProcess(pid: pid, master: master)
    }

    /// A close-on-exec pipe already holding `secret` and closed for writing; its read end.
    private static func handoverPipe(carrying secret: String) throws -> Int32 {
        var ends: [Int32] = [-1, -1]
        guard hp_pipe_cloexec(&ends) == 0 else {
            throw SpawnError(description: "cannot start the consent screen: \(String(cString: strerror(errno)))")
        }
        let bytes = Array(secret.utf8)
        // Far below the pipe's capacity: the write completes without a reader.
        let written = bytes.withUnsafeBytes { write(ends[1], $0.baseAddress, $0.count) }
        close(ends[1])
        guard written == bytes.count else {
            close(ends[0])
            throw SpawnError(description: "cannot start the consent screen: the session could not be handed over")
        }
        return ends[0]
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
