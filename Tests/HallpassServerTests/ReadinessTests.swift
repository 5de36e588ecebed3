import Dispatch
import Foundation
@testable import HallpassServer
import HallpassStore
import Hummingbird
import HummingbirdTesting
import Testing

/// `/livez` and `/readyz`: readiness reflects the store and never hangs with it.
@Suite struct ReadinessTests {
    @Test func theFirstOfWorkAndDeadlineWins() async {
        #expect(await firstOf(deadline: .seconds(5)) { 42 } == 42)
        // Work that ignores cancellation and never ends (a query waiting on a silent database).
        let started = ContinuousClock.now
        let never: Int? = await firstOf(deadline: .milliseconds(200)) {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().asyncAfter(deadline: .now() + 5) { continuation.resume(returning: 1) }
            }
        }
        #expect(never == nil)
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func livenessAndReadinessAnswerWhileTheStoreDoes() async throws {
        let h = try await Harness()
        try await h.test { client in
            let live = try await client.raw("/livez")
            #expect(live.status == .ok && live.string("status") == "ok")
            for path in ["/readyz", "/healthz"] {
                let ready = try await client.raw(path)
                #expect(ready.status == .ok && ready.string("store") == "ok", "\(path): \(ready.raw)")
                #expect(ready.headers[.cacheControl] == "no-store")
            }
        }
    }
}
