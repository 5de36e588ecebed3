import Foundation

/// A terminal the consent front can draw on: ncurses in production, a recording fake in tests.
public protocol TerminalBackend: AnyObject {
    /// Columns and rows right now.
    var size: (width: Int, height: Int) { get }
    /// Paints `buffer` (which has the current size) with `theme`.
    func draw(_ buffer: CellBuffer, theme: Theme)
    /// Clears the screen and the terminal's scrollback (kiosk mode, between people).
    func wipe()
    /// Starts handing every key and resize to `deliver` as it happens, from whichever thread
    /// reads the terminal. The backend waits for input; the program never asks for it.
    func startReading(_ deliver: @escaping @Sendable (TerminalEvent) -> Void)
}

/// The runtime around `ConsentState.update` (Bubble Tea's program loop): one `AsyncStream`
/// carries everything that can change the screen — keys and resizes from the backend, the
/// clock's tick, the answers of effects and push news — and the loop awaits it, updates the
/// state, performs the effects and draws. Nothing is polled. One instance per terminal.
public final class ConsentProgram {
    /// What the loop waits for, in the order it happened.
    enum Input: Sendable {
        case terminal(TerminalEvent)
        /// A clock tick or push news: a message for `update`.
        case message(ConsentMessage)
        /// A service call ended, with the message its answer makes (nil for a logout).
        case effectFinished(ConsentMessage?)
        /// Time is up for the calls still in flight when the program ended.
        case deadline
    }

    var state: ConsentState
    let service: any ConsentService
    let backend: any TerminalBackend
    private let theme: Theme
    private let strings: Strings
    private let now: @Sendable () -> Date
    private let tickInterval: Duration
    private let inputs: AsyncStream<Input>
    let feed: AsyncStream<Input>.Continuation
    /// Service calls started and not yet answered.
    var inFlight = 0
    var watchTask: Task<Void, Never>?
    /// The inbox's push watch (CIBA, ARCHITECTURE.md §4.9).
    var inboxTask: Task<Void, Never>?

    public init(state: ConsentState, service: any ConsentService, backend: any TerminalBackend, theme: Theme,
                strings: Strings, now: @escaping @Sendable () -> Date = { Date() },
                tickInterval: Duration = .milliseconds(250)) {
        self.state = state
        self.service = service
        self.backend = backend
        self.theme = theme
        self.strings = strings
        self.now = now
        self.tickInterval = tickInterval
        (inputs, feed) = AsyncStream.makeStream(of: Input.self)
    }

    /// Runs until the person quits. Effects run as tasks and report back through the stream.
    public func run() async {
        let feed = self.feed
        backend.startReading { feed.yield(.terminal($0)) }
        let clock = startClock()
        var iterator = inputs.makeAsyncIterator()
        var size = backend.size
        redraw(size)
        while !state.finished, let input = await iterator.next() {
            switch input {
            case .terminal(.key(let key)):
                perform(state.update(.key(key)))
            case .terminal(.resize(let width, let height)):
                size = (width, height)
            case .message(let message):
                let before = state
                perform(state.update(message))
                // A tick that changed nothing (most of them) paints nothing.
                if case .tick = message, before == state { continue }
            case .effectFinished(let message):
                inFlight -= 1
                if let message { perform(state.update(message)) }
            case .deadline:
                continue
            }
            redraw(size)
        }
        clock.cancel()
        watchTask?.cancel()
        inboxTask?.cancel()
        await settle(&iterator)
        feed.finish()
    }

    private func redraw(_ size: (width: Int, height: Int)) {
        backend.draw(ConsentView.render(state, strings: strings, width: size.width, height: size.height), theme: theme)
    }

    /// Ticks into the stream every `tickInterval`, so countdowns, expiry and the kiosk's idle
    /// timeout move without a key.
    private func startClock() -> Task<Void, Never> {
        let feed = self.feed
        let now = self.now
        let interval = self.tickInterval
        return Task {
            while true {
                do { try await Task.sleep(for: interval) } catch { return }
                feed.yield(.message(.tick(now())))
            }
        }
    }

    /// Lets the calls still in flight (a logout, say) finish, for at most 2 s, so the session
    /// does not outlive the screen. Their answers are not shown: the screen is gone.
    private func settle(_ iterator: inout AsyncStream<Input>.Iterator) async {
        guard inFlight > 0 else { return }
        let feed = self.feed
        let deadline = Task {
            guard (try? await Task.sleep(for: .seconds(2))) != nil else { return }
            feed.yield(.deadline)
        }
        defer { deadline.cancel() }
        while inFlight > 0, let input = await iterator.next() {
            switch input {
            case .effectFinished: inFlight -= 1
            case .deadline: return
            case .terminal, .message: continue
            }
        }
    }
}
