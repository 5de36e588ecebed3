import CNCurses
import Foundation
import HallpassTUI
import Synchronization

/// The ncurses backend: paints a `CellBuffer` cell by cell at absolute positions (so no width
/// disagreement can shift later text), reads keys and reports resizes. ncurses keeps global
/// state and is not thread-safe, so there is one backend per process (ARCHITECTURE.md §1) and
/// every ncurses call happens on its own terminal thread. That thread sleeps in poll(2), with
/// no timeout, until a key arrives, the window changes size (SIGWINCH writes to a wake pipe) or
/// the program queues a paint; it hands keys to the program as they come.
public final class NCursesBackend: TerminalBackend, @unchecked Sendable {
    enum Command {
        case draw(CellBuffer, Theme)
        case wipe
    }

    struct Shared {
        var commands: [Command] = []
        var deliver: (@Sendable (TerminalEvent) -> Void)?
        var size = (width: 80, height: 24)
        var stopping = false
        var exited = false
        var stopWaiters: [CheckedContinuation<Void, Never>] = []
    }

    let shared = Mutex(Shared())
    /// The wake pipe: the program (and the SIGWINCH handler) write a byte, the thread wakes.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    // Touched only on the terminal thread.
    var pairs: [PairKey: Int32] = [:]
    var colours = false
    var colourCount = 0

    struct PairKey: Hashable {
        var foreground: Int32
        var background: Int32
    }

    private init() throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw TerminalError("cannot make the terminal's wake pipe") }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        (wakeRead, wakeWrite) = (fds[0], fds[1])
    }

    // Closed only here: a late `wake` then writes into a pipe nobody reads, never into a
    // descriptor number reused by something else.
    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// Starts ncurses on its own thread; throws when there is no usable terminal.
    public static func start() async throws -> NCursesBackend {
        let backend = try NCursesBackend()
        let failure: String? = await withCheckedContinuation { started in
            let thread = Thread { backend.serve(started) }
            thread.name = "hallpass-terminal"
            thread.start()
        }
        if let failure { throw TerminalError(failure) }
        return backend
    }

    /// Restores the terminal and ends the thread; returns once it has. Safe to call twice.
    public func stop() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let exited = shared.withLock { shared in
                if !shared.exited {
                    shared.stopping = true
                    shared.stopWaiters.append(continuation)
                }
                return shared.exited
            }
            if exited { continuation.resume() } else { wake() }
        }
    }

    public var size: (width: Int, height: Int) { shared.withLock { $0.size } }

    public func draw(_ buffer: CellBuffer, theme: Theme) {
        shared.withLock { shared in
            // Only the newest frame matters: an older one not yet painted is dropped.
            if case .draw = shared.commands.last { shared.commands.removeLast() }
            shared.commands.append(.draw(buffer, theme))
        }
        wake()
    }

    public func wipe() {
        shared.withLock { $0.commands.append(.wipe) }
        wake()
    }

    public func startReading(_ deliver: @escaping @Sendable (TerminalEvent) -> Void) {
        shared.withLock { $0.deliver = deliver }
        wake()
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)  // a full pipe already means "wake up"
    }

    /// The terminal thread: start ncurses, then paint, read and sleep until told to stop.
    private func serve(_ started: CheckedContinuation<String?, Never>) {
        hp_setlocale()
        guard hp_start() == 0 else {
            shared.withLock { $0.exited = true }
            started.resume(returning: "cannot start the terminal (is TERM set?)")
            return
        }
        colours = hp_has_colors() != 0
        colourCount = Int(hp_colors())
        shared.withLock { $0.size = (Int(hp_width()), Int(hp_height())) }
        _ = hp_watch_resize(wakeWrite)
        started.resume(returning: nil)
        var inputOpen = true
        var hungUp = false
        while true {
            let (commands, stopping, deliver) = shared.withLock { shared in
                defer { shared.commands.removeAll() }
                return (shared.commands, shared.stopping, shared.deliver)
            }
            for command in commands {
                switch command {
                case .draw(let buffer, let theme): paint(buffer, theme: theme)
                case .wipe: hp_wipe()
                }
            }
            if stopping { break }
            if let deliver, inputOpen {
                var readSomething = false
                while let event = readEvent() {
                    readSomething = true
                    deliver(event)
                }
                // A terminal that hung up stays readable forever: stop watching it rather
                // than spin (the hang-up's SIGHUP ends the process).
                if hungUp, !readSomething { inputOpen = false }
            }
            let ready = hp_wait(wakeRead, deliver != nil && inputOpen ? 1 : 0)
            if ready & 2 != 0 { drainWakePipe() }
            hungUp = ready & 4 != 0
        }
        hp_unwatch_resize()
        hp_stop()
        let waiters = shared.withLock { shared in
            shared.exited = true
            return shared.stopWaiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The next key or resize ncurses already has, without waiting.
    private func readEvent() -> TerminalEvent? {
        var code: UInt32 = 0
        switch hp_get(0, &code) {
        case 0: return .key(Self.key(character: code))
        case 1:
            let key = Int32(bitPattern: code)
            if key == hp_key_resize() {
                let size = (width: Int(hp_width()), height: Int(hp_height()))
                shared.withLock { $0.size = size }
                return .resize(width: size.width, height: size.height)
            }
            // A key code the TUI has no name for: read on.
            return Self.key(code: key).map(TerminalEvent.key) ?? readEvent()
        default: return nil
        }
    }

    private func drainWakePipe() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &bytes, bytes.count) > 0 {}
    }
}

public struct TerminalError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
