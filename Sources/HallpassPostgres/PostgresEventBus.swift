import Foundation
import HallpassCore
import HallpassStore
import Logging
import PostgresNIO
import Synchronization

/// The event bus across replicas (ARCHITECTURE.md §3c): a decision is delivered at once to this replica's
/// listeners and sent with `NOTIFY` to every other replica, which hears it on one dedicated
/// `LISTEN` connection per replica. Notifications are hints: listeners re-read the store. When
/// the listening connection drops and comes back, every grant someone here waits on gets a
/// "look again" event, so a decision announced while the connection was down is not missed.
/// Only decisions and inbox changes (CIBA, §4.9) are announced, never polls.
public final class PostgresEventBus: GrantEventBus {
    static let channel = "hallpass_grants"

    private let local = InProcessEventBus()
    private let store: PostgresStore
    private let url: PostgresURL
    private let logger: Logger
    /// Marks this replica's own notifications, which it has already delivered locally.
    let replicaID: String
    private let listener = Mutex<Task<Void, Never>?>(nil)
    private let state = Mutex(State())

    struct State {
        var connections = 0
    }

    public init(store: PostgresStore, logger: Logger = PostgresStore.quietLogger) {
        self.store = store
        url = store.url
        self.logger = logger
        replicaID = String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    /// Starts listening; returns once the first `LISTEN` is in place (so nothing announced after
    /// this returns is missed), or throws why it cannot be.
    public func start() async throws {
        let first = try await openListener()
        let task = Task { [self] in await self.listenLoop(first: first) }
        listener.withLock { $0 = task }
    }

    /// `start()` has run and `stop()` has not.
    public var isListening: Bool { listener.withLock { $0 != nil } }

    public func stop() {
        listener.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    deinit {
        listener.withLock { $0?.cancel() }
    }

    public func publish(_ event: GrantEvent) {
        local.publish(event)
        guard let outcome = event.outcome else { return }
        notify("\(replicaID) \(event.grantID) \(outcome.rawValue)", what: "a decision")
    }

    private func notify(_ payload: String, what: String) {
        let store = store
        Task {
            do {
                try await store.count("SELECT pg_notify(\(Self.channel), \(payload))")
            } catch {
                // Other replicas' sockets still learn it: their expiry timers, the devices' polling
                // and the screens' slower inbox reads fall back to the store. Logged, not thrown:
                // what is announced is already committed.
                self.logger.warning("cannot announce \(what) to other replicas: \(String(reflecting: error))")
            }
        }
    }

    public func listen(grantID: Int64, _ handler: @escaping @Sendable (GrantEvent) -> Void) -> GrantSubscription {
        local.listen(grantID: grantID, handler)
    }

    /// `"<replica> inbox <name, base64>"`: a user name may hold spaces; base64 keeps the payload
    /// three words (and far below NOTIFY's 8000 bytes: names are at most 255).
    public func publishInbox(loginHint: String) {
        local.publishInbox(loginHint: loginHint)
        notify("\(replicaID) inbox \(Data(loginHint.utf8).base64EncodedString())", what: "an inbox change")
    }

    public func listenInbox(loginHint: String, _ handler: @escaping @Sendable () -> Void) -> GrantSubscription {
        local.listenInbox(loginHint: loginHint, handler)
    }

    /// Listening connections opened so far (1 until a reconnect; for tests and metrics).
    public var listenerConnections: Int { state.withLock { $0.connections } }

    /// A new dedicated connection with `LISTEN` in place (closed again if that fails).
    private func openListener() async throws -> (PostgresConnection, PostgresNotificationSequence) {
        let connection = try await PostgresConnection.connect(configuration: try url.connectionConfiguration(), id: 1, logger: logger)
        state.withLock { $0.connections += 1 }
        do {
            return (connection, try await connection.listen(Self.channel))
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private func listenLoop(first: (PostgresConnection, PostgresNotificationSequence)) async {
        var current: (PostgresConnection, PostgresNotificationSequence)? = first
        var backoff: Duration = .milliseconds(100)
        while !Task.isCancelled {
            guard let (connection, notifications) = current else {
                do {
                    current = try await openListener()
                    backoff = .milliseconds(100)
                    // Whatever was announced while we were away: every waiting socket looks again.
                    for grantID in local.grantIDs { local.publish(GrantEvent(grantID: grantID, outcome: nil)) }
                    for name in local.inboxNames { local.publishInbox(loginHint: name) }
                } catch {
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(5))
                }
                continue
            }
            do {
                for try await notification in notifications { deliver(notification.payload) }
            } catch {
                logger.warning("event connection lost, reconnecting: \(String(reflecting: error))")
            }
            try? await connection.close()
            current = nil
        }
        if let (connection, _) = current { try? await connection.close() }
    }

    /// `"<replica> <grant id> <outcome>"` or `"<replica> inbox <name, base64>"`; anything else
    /// is ignored.
    func deliver(_ payload: String) {
        let parts = payload.split(separator: " ")
        guard parts.count == 3, parts[0] != Substring(replicaID) else { return }
        if parts[1] == "inbox" {
            guard let name = Data(base64Encoded: String(parts[2])).flatMap({ String(data: $0, encoding: .utf8) }) else { return }
            return local.publishInbox(loginHint: name)
        }
        guard let grantID = Int64(parts[1]),
              let outcome = GrantOutcome(rawValue: String(parts[2]))
        else { return }
        local.publish(GrantEvent(grantID: grantID, outcome: outcome))
    }
}
