import Foundation
import Synchronization

/// A terminal the consent front can draw on: ncurses in production, a recording fake in tests.
public protocol TerminalBackend: AnyObject {
    /// Columns and rows right now.
    var size: (width: Int, height: Int) { get }
    /// Paints `buffer` (which has the current size) with `theme`.
    func draw(_ buffer: CellBuffer, theme: Theme)
    /// The next key or resize, waiting at most `milliseconds`; nil when nothing happened.
    func nextEvent(waitingAtMost milliseconds: Int) -> TerminalEvent?
    /// Clears the screen and the terminal's scrollback (kiosk mode, between people).
    func wipe()
}

/// The runtime around `ConsentState.update` (Bubble Tea's program loop): reads keys, ticks the
/// clock, performs effects through the `ConsentService` and feeds their answers back, and
/// draws after every change. One instance per terminal.
public final class ConsentProgram: @unchecked Sendable {
    private var state: ConsentState
    private let service: any ConsentService
    private let backend: any TerminalBackend
    private let theme: Theme
    private let strings: Strings
    private let now: @Sendable () -> Date
    private let inbox = Mutex<[ConsentMessage]>([])
    private let inFlight = Mutex(0)
    private var watchTask: Task<Void, Never>?

    public init(state: ConsentState, service: any ConsentService, backend: any TerminalBackend, theme: Theme,
                strings: Strings, now: @escaping @Sendable () -> Date = { Date() }) {
        self.state = state
        self.service = service
        self.backend = backend
        self.theme = theme
        self.strings = strings
        self.now = now
    }

    /// Runs until the person quits. Blocks the calling thread (ncurses wants one thread);
    /// effects run as tasks and report back through the inbox.
    public func run() {
        var size = backend.size
        redraw(size)
        var lastTick = now()
        while !state.finished {
            var changed = false
            if let event = backend.nextEvent(waitingAtMost: 25) {
                switch event {
                case .key(let key): perform(state.update(.key(key)))
                case .resize(let width, let height): size = (width, height)
                }
                changed = true
            }
            for message in inbox.withLock({ box in defer { box.removeAll() }; return box }) {
                perform(state.update(message))
                changed = true
            }
            let time = now()
            if time.timeIntervalSince(lastTick) >= 0.25 {
                lastTick = time
                let before = state
                perform(state.update(.tick(time)))
                changed = changed || before != state
            }
            if changed { redraw(size) }
        }
        watchTask?.cancel()
        // Let a logout finish (bounded), so the session does not outlive the screen.
        let deadline = Date().addingTimeInterval(2)
        while inFlight.withLock({ $0 }) > 0, Date() < deadline { usleep(10_000) }
    }

    private func redraw(_ size: (width: Int, height: Int)) {
        backend.draw(ConsentView.render(state, strings: strings, width: size.width, height: size.height), theme: theme)
    }

    private func perform(_ effects: [ConsentEffect]) {
        for effect in effects {
            switch effect {
            case .quit: state.finished = true
            case .wipeScreen: backend.wipe()
            case .unwatch:
                watchTask?.cancel()
                watchTask = nil
            case .watch(let code, let session):
                watchTask?.cancel()
                watchTask = follow(code: code, session: session)
            default: launch(effect)
            }
        }
    }

    private func launch(_ effect: ConsentEffect) {
        let service = self.service
        inFlight.withLock { $0 += 1 }
        Task.detached { [self] in
            let message = await Self.answer(effect, service: service)
            if let message { inbox.withLock { $0.append(message) } }
            inFlight.withLock { $0 -= 1 }
        }
    }

    /// Follows one request by push until news arrives, reconnecting after a dropped watch.
    private func follow(code: String, session: String) -> Task<Void, Never> {
        let service = self.service
        return Task.detached { [self] in
            var pause: UInt64 = 250
            while !Task.isCancelled {
                if let update = await service.watch(code: code, session: session) {
                    if !Task.isCancelled { inbox.withLock { $0.append(.requestUpdated(code: code, update)) } }
                    return
                }
                try? await Task.sleep(for: .milliseconds(pause))
                pause = min(pause * 2, 4_000)
            }
        }
    }

    /// Performs one service effect and turns the outcome into the message `update` expects.
    static func answer(_ effect: ConsentEffect, service: any ConsentService) async -> ConsentMessage? {
        switch effect {
        case .login(let user, let password):
            do { return .loggedIn(try await service.login(user: user, password: password)) } catch { return .loginFailed(error) }
        case .lookup(let code, let session):
            do { return .lookedUp(try await service.lookup(code: code, session: session)) } catch { return .lookupFailed(error) }
        case .approve(let code, let scopes, let session):
            do { return .decided(try await service.approve(code: code, scopes: scopes, session: session)) } catch { return .decisionFailed(error) }
        case .deny(let code, let session):
            do { return .decided(try await service.deny(code: code, session: session)) } catch { return .decisionFailed(error) }
        case .logout(let session):
            await service.logout(session: session)
            return nil
        case .wipeScreen, .quit, .watch, .unwatch:
            return nil
        }
    }
}
