import Foundation
import HallpassCore
import Synchronization

/// A hint that a grant changed. Listeners re-read the store; `outcome` nil means "it may have
/// changed, look" (sent after a replica's event connection was re-established).
public struct GrantEvent: Sendable, Equatable {
    public var grantID: Int64
    public var outcome: GrantOutcome?
    public init(grantID: Int64, outcome: GrantOutcome?) {
        self.grantID = grantID
        self.outcome = outcome
    }
}

/// Fans grant decisions out to everyone waiting on them. The in-process bus serves one
/// replica; the PostgreSQL issue implements the same protocol with LISTEN/NOTIFY.
public protocol GrantEventBus: Sendable {
    /// Delivers `event` to every current subscriber of its grant.
    func publish(_ event: GrantEvent)
    /// Calls `handler` for every event of `grantID` from now on, until the subscription is
    /// cancelled. Cheaper than a stream when thousands of sockets wait (no task per listener).
    func listen(grantID: Int64, _ handler: @escaping @Sendable (GrantEvent) -> Void) -> GrantSubscription
    /// CIBA (ARCHITECTURE.md §4.9): the inbox of the user named `loginHint` changed (a request
    /// arrived or was decided). A hint: listeners re-read the inbox from the store.
    func publishInbox(loginHint: String)
    /// Calls `handler` whenever the inbox of `loginHint` may have changed, until cancelled;
    /// also after a replica's event connection came back (something may have been missed).
    func listenInbox(loginHint: String, _ handler: @escaping @Sendable () -> Void) -> GrantSubscription
}

extension GrantEventBus {
    /// Events for `grantID` from now on, as a stream that ends when its consumer stops.
    public func subscribe(grantID: Int64) -> AsyncStream<GrantEvent> {
        let (stream, continuation) = AsyncStream<GrantEvent>.makeStream(bufferingPolicy: .bufferingNewest(4))
        let subscription = listen(grantID: grantID) { continuation.yield($0) }
        continuation.onTermination = { _ in subscription.cancel() }
        return stream
    }
}

/// A live `listen`; `cancel` (idempotent) stops the calls.
public final class GrantSubscription: Sendable {
    private let onCancel: Mutex<(@Sendable () -> Void)?>
    public init(onCancel: @escaping @Sendable () -> Void) { self.onCancel = Mutex(onCancel) }
    public func cancel() {
        let action = onCancel.withLock { a in defer { a = nil }; return a }
        action?()
    }
}

/// The single-replica `GrantEventBus`: tables of handlers (by grant, by inbox) behind locks.
public final class InProcessEventBus: GrantEventBus {
    private let byGrant = HandlerTable<Int64, GrantEvent>()
    private let byInbox = HandlerTable<String, Void>()

    public init() {}

    public func publish(_ event: GrantEvent) {
        byGrant.call(event.grantID, with: event)
    }

    public func listen(grantID: Int64, _ handler: @escaping @Sendable (GrantEvent) -> Void) -> GrantSubscription {
        byGrant.add(grantID, handler)
    }

    public func publishInbox(loginHint: String) {
        byInbox.call(loginHint, with: ())
    }

    public func listenInbox(loginHint: String, _ handler: @escaping @Sendable () -> Void) -> GrantSubscription {
        byInbox.add(loginHint) { _ in handler() }
    }

    /// The grants someone listens to right now.
    public var grantIDs: [Int64] { byGrant.keys }

    /// The inboxes someone watches right now.
    public var inboxNames: [String] { byInbox.keys }

    /// Subscriptions currently open (for metrics and tests).
    public var subscriberCount: Int { byGrant.count + byInbox.count }
}

/// Handlers by key behind one lock; `add` returns the subscription that removes its handler.
final class HandlerTable<Key: Hashable & Sendable, Event>: Sendable {
    private struct Table {
        var next = 0
        var byKey: [Key: [Int: @Sendable (Event) -> Void]] = [:]
    }
    private let table = Mutex(Table())

    func call(_ key: Key, with event: Event) {
        let targets = table.withLock { $0.byKey[key].map { Array($0.values) } ?? [] }
        for handler in targets { handler(event) }
    }

    func add(_ key: Key, _ handler: @escaping @Sendable (Event) -> Void) -> GrantSubscription {
        let slot = table.withLock { t in
            t.next += 1
            t.byKey[key, default: [:]][t.next] = handler
            return t.next
        }
        return GrantSubscription { [weak self] in
            self?.table.withLock { t in
                t.byKey[key]?[slot] = nil
                if t.byKey[key]?.isEmpty == true { t.byKey[key] = nil }
            }
        }
    }

    var keys: [Key] { table.withLock { Array($0.byKey.keys) } }
    var count: Int { table.withLock { $0.byKey.values.reduce(0) { $0 + $1.count } } }
}
