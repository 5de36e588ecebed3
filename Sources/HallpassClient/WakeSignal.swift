import Foundation
import Synchronization

/// Lets a push event cut short the wait between polls. `fire` wakes a sleeper (or the next
/// one); `consume` tells the poller whether to skip its wait.
final class WakeSignal: Sendable {
    private struct State {
        var fired = false
        var sleeper: CheckedContinuation<Void, Never>?
    }
    private let state = Mutex(State())

    func fire() {
        let sleeper = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.fired = true
            defer { s.sleeper = nil }
            return s.sleeper
        }
        sleeper?.resume()
    }

    /// True (and resets) when a push arrived since the last call.
    func consume() -> Bool {
        state.withLock { s in
            defer { s.fired = false }
            return s.fired
        }
    }

    /// Sleeps `seconds` with `sleep`, or less if `fire` is called meanwhile.
    func sleep(_ seconds: TimeInterval, using sleep: @escaping @Sendable (TimeInterval) async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await sleep(seconds) }
            group.addTask { await self.waitForFire() }
            try await group.next()
            group.cancelAll()
        }
        _ = consume()
    }

    private func waitForFire() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { s -> Bool in
                    if s.fired { return true }
                    s.sleeper = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { s -> CheckedContinuation<Void, Never>? in
                defer { s.sleeper = nil }
                return s.sleeper
            }
            sleeper?.resume()
        }
    }
}
