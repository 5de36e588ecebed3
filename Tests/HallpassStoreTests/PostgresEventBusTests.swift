import Foundation
import HallpassCore
@testable import HallpassPostgres
import HallpassStore
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// Two buses on one database stand for two replicas.
@Suite struct PostgresEventBusTests {
    /// Collects events; `waitForCount` waits up to 10 s (then the expectation fails).
    final class Inbox: Sendable {
        private let events = Mutex<[GrantEvent]>([])
        func put(_ event: GrantEvent) { events.withLock { $0.append(event) } }
        var all: [GrantEvent] { events.withLock { $0 } }
        func waitForCount(_ n: Int) async throws {
            for _ in 0..<1000 where all.count < n { try await Task.sleep(for: .milliseconds(10)) }
            #expect(all.count >= n, "waited 10 s for \(n) events, have \(all)")
        }
    }

    func twoReplicas() async throws -> (PostgresEventBus, PostgresEventBus, PostgresStore) {
        let url = try await TestPostgres.freshDatabaseURL()
        let store = try await TestPostgres.runningStore(url: url)
        let other = try await TestPostgres.runningStore(url: url)
        let a = PostgresEventBus(store: store), b = PostgresEventBus(store: other)
        try await a.start()
        try await b.start()
        return (a, b, store)
    }

    @Test func aDecisionOnOneReplicaReachesTheOtherAndItsOwnListenersOnce() async throws {
        let (a, b, _) = try await twoReplicas()
        defer { a.stop(); b.stop() }
        let onA = Inbox(), onB = Inbox(), elsewhere = Inbox()
        let s1 = a.listen(grantID: 42) { onA.put($0) }
        let s2 = b.listen(grantID: 42) { onB.put($0) }
        let s3 = b.listen(grantID: 43) { elsewhere.put($0) }
        defer { s1.cancel(); s2.cancel(); s3.cancel() }
        a.publish(GrantEvent(grantID: 42, outcome: .approved))
        try await onB.waitForCount(1)
        #expect(onB.all == [GrantEvent(grantID: 42, outcome: .approved)])
        // A sends a marker through B's side to be sure A's own notification has come back by now.
        b.publish(GrantEvent(grantID: 42, outcome: .denied))
        try await onA.waitForCount(2)
        #expect(onA.all == [GrantEvent(grantID: 42, outcome: .approved), GrantEvent(grantID: 42, outcome: .denied)])
        #expect(elsewhere.all.isEmpty)
    }

    /// CIBA (ARCHITECTURE.md §4.9): a request made on one replica reaches the screens of the
    /// named user on the other, names with spaces and all, and nobody else's.
    @Test func anInboxChangeOnOneReplicaReachesTheNamedUsersScreensOnTheOther() async throws {
        let (a, b, _) = try await twoReplicas()
        defer { a.stop(); b.stop() }
        let alice = Inbox(), bob = Inbox(), aliceOnA = Inbox()
        let s1 = b.listenInbox(loginHint: "alice smith") { alice.put(GrantEvent(grantID: 0, outcome: nil)) }
        let s2 = b.listenInbox(loginHint: "bob") { bob.put(GrantEvent(grantID: 0, outcome: nil)) }
        let s3 = a.listenInbox(loginHint: "alice smith") { aliceOnA.put(GrantEvent(grantID: 0, outcome: nil)) }
        defer { s1.cancel(); s2.cancel(); s3.cancel() }
        a.publishInbox(loginHint: "alice smith")
        try await alice.waitForCount(1)
        try await Task.sleep(for: .milliseconds(200))         // A's own notification comes back to A: ignored
        #expect(alice.all.count == 1 && aliceOnA.all.count == 1 && bob.all.isEmpty)
        b.deliver("x inbox !!!not-base64")                        // a malformed payload is ignored
        #expect(alice.all.count == 1 && bob.all.isEmpty)
    }

    @Test func afterTheEventConnectionDropsWaitingGrantsAreToldToLookAgain() async throws {
        let (a, b, store) = try await twoReplicas()
        defer { a.stop(); b.stop() }
        let onB = Inbox()
        let subscription = b.listen(grantID: 7) { onB.put($0) }
        defer { subscription.cancel() }
        // Cut both replicas' LISTEN connections (this database only), as a failover would.
        try await store.count("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database() AND pid <> pg_backend_pid()")
        try await onB.waitForCount(1)
        #expect(onB.all.first == GrantEvent(grantID: 7, outcome: nil))
        #expect(b.listenerConnections >= 2)
        // And it listens again: a decision after the reconnect still arrives.
        for _ in 0..<1000 where a.listenerConnections < 2 { try await Task.sleep(for: .milliseconds(10)) }
        a.publish(GrantEvent(grantID: 7, outcome: .approved))
        try await onB.waitForCount(2)
        #expect(onB.all.last == GrantEvent(grantID: 7, outcome: .approved))
    }

    @Test func theBusServiceStopsListeningWhenItsGroupShutsDown() async throws {
        let url = try await TestPostgres.freshDatabaseURL()
        let store = try await PostgresStore(url: url)
        let bus = PostgresEventBus(store: store)
        let group = ServiceGroup(services: [store.pool, bus], logger: Logger(label: "test"))
        let running = Task { try await group.run() }
        for _ in 0..<1000 where !bus.isListening { try await Task.sleep(for: .milliseconds(10)) }
        #expect(bus.isListening && bus.listenerConnections == 1, "run() starts LISTEN")
        #expect(try await store.count("SELECT 1") == 1, "the pool runs in the group")
        await group.triggerGracefulShutdown()
        try await running.value                        // returns: every service stopped
        #expect(!bus.isListening)
    }
}
