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

/// The single-replica `GrantEventBus`: a table of handlers behind one lock.
public final class InProcessEventBus: GrantEventBus {
    private struct Table {
        var next = 0
        var byGrant: [Int64: [Int: @Sendable (GrantEvent) -> Void]] = [:]
    }
    private let table = Mutex(Table())

    public init() {}

    public func publish(_ event: GrantEvent) {
        let targets = table.withLock { $0.byGrant[event.grantID].map { Array($0.values) } ?? [] }
        for handler in targets { handler(event) }
    }

    public func listen(grantID: Int64, _ handler: @escaping @Sendable (GrantEvent) -> Void) -> GrantSubscription {
        let key = table.withLock { t in
            t.next += 1
            t.byGrant[grantID, default: [:]][t.next] = handler
            return t.next
        }
        return GrantSubscription { [weak self] in
            self?.table.withLock { t in
                t.byGrant[grantID]?[key] = nil
                if t.byGrant[grantID]?.isEmpty == true { t.byGrant[grantID] = nil }
            }
        }
    }

    /// The grants someone listens to right now.
    public var grantIDs: [Int64] {
        table.withLock { Array($0.byGrant.keys) }
    }

    /// Subscriptions currently open (for metrics and tests).
    public var subscriberCount: Int {
        table.withLock { $0.byGrant.values.reduce(0) { $0 + $1.count } }
    }
}
