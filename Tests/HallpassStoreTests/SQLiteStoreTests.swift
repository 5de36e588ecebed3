import Foundation
import HallpassCore
import HallpassStore
import HallpassSQLite
import Testing

/// A throwaway database file per test.
struct TempDatabase {
    let directory: URL
    let store: SQLiteStore

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("hallpass-store-\(UUID().uuidString)")
        store = try SQLiteStore(path: directory.appendingPathComponent("test.db").path)
    }
}

@Suite struct SQLiteStoreTests {
    @Test func durabilitySettings() async throws {
        let db = try TempDatabase()
        #expect(try await db.store.pragma("journal_mode") == "wal")
        #expect(try await db.store.pragma("synchronous") == "2")  // FULL
    }

    @Test func twoConnectionsShareTheFile() async throws {
        // The admin CLI opens its own connection while the server runs.
        let db = try TempDatabase()
        let second = try SQLiteStore(path: db.directory.appendingPathComponent("test.db").path)
        _ = try await second.addUser(name: "erin", passwordHash: "x")
        #expect(try await db.store.user(named: "erin")?.user.name == "erin")
    }
}

@Suite struct EventBusTests {
    @Test func eventsReachEverySubscriberOfTheirGrantOnly() async {
        let bus = InProcessEventBus()
        let a1 = bus.subscribe(grantID: 1)
        let a2 = bus.subscribe(grantID: 1)
        let b = bus.subscribe(grantID: 2)
        #expect(bus.subscriberCount == 3)
        bus.publish(GrantEvent(grantID: 1, outcome: .approved))
        var i1 = a1.makeAsyncIterator()
        var i2 = a2.makeAsyncIterator()
        #expect(await i1.next() == GrantEvent(grantID: 1, outcome: .approved))
        #expect(await i2.next() == GrantEvent(grantID: 1, outcome: .approved))
        bus.publish(GrantEvent(grantID: 2, outcome: .expired))
        var ib = b.makeAsyncIterator()
        #expect(await ib.next()?.outcome == .expired)
    }

    @Test func aSubscriberThatStopsIsForgotten() async {
        let bus = InProcessEventBus()
        let task = Task {
            for await _ in bus.subscribe(grantID: 7) {}
        }
        while bus.subscriberCount == 0 { await Task.yield() }
        task.cancel()
        _ = await task.value
        #expect(bus.subscriberCount == 0)
    }
}
