import Foundation
import Synchronization

/// What can happen to a pending grant that a waiting device or an approver's screen must learn
/// at once (DESIGN §4). Events are hints: whoever receives one re-reads the store before acting.
public enum GrantOutcome: String, Sendable, Equatable {
    case approved, denied, expired
}

public struct GrantEvent: Sendable, Equatable {
    public var grantID: Int64
    public var outcome: GrantOutcome
    public init(grantID: Int64, outcome: GrantOutcome) {
        self.grantID = grantID
        self.outcome = outcome
    }
}

/// Fans grant decisions out to everyone waiting on them. The in-process bus serves one
/// replica; the PostgreSQL issue implements the same protocol with LISTEN/NOTIFY.
public protocol GrantEventBus: Sendable {
    /// Delivers `event` to every current subscriber of its grant.
    func publish(_ event: GrantEvent)
    /// Events for `grantID` from now on; the stream ends when the consumer stops iterating
    /// (its task is cancelled) or the bus shuts down.
    func subscribe(grantID: Int64) -> AsyncStream<GrantEvent>
}

/// The single-replica `GrantEventBus`: a table of continuations behind one lock.
public final class InProcessEventBus: GrantEventBus {
    private struct Table {
        var next = 0
        var byGrant: [Int64: [Int: AsyncStream<GrantEvent>.Continuation]] = [:]
    }
    private let table = Mutex(Table())

    public init() {}

    public func publish(_ event: GrantEvent) {
        let targets = table.withLock { $0.byGrant[event.grantID].map { Array($0.values) } ?? [] }
        for continuation in targets { continuation.yield(event) }
    }

    public func subscribe(grantID: Int64) -> AsyncStream<GrantEvent> {
        let (stream, continuation) = AsyncStream<GrantEvent>.makeStream(bufferingPolicy: .bufferingNewest(4))
        let key = table.withLock { t in
            t.next += 1
            t.byGrant[grantID, default: [:]][t.next] = continuation
            return t.next
        }
        continuation.onTermination = { [weak self] _ in
            self?.table.withLock { t in
                t.byGrant[grantID]?[key] = nil
                if t.byGrant[grantID]?.isEmpty == true { t.byGrant[grantID] = nil }
            }
        }
        return stream
    }

    /// Subscriptions currently open (for metrics and tests).
    public var subscriberCount: Int {
        table.withLock { $0.byGrant.values.reduce(0) { $0 + $1.count } }
    }
}
