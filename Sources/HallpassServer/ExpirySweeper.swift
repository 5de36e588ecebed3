import Foundation
import HallpassCore
import HallpassStore
import Logging
import ServiceLifecycle

/// Marks expired grants and deletes long-dead rows every 30 seconds, keeping tables bounded.
/// Safe on every replica: each sweep is one idempotent transaction.
struct ExpirySweeper: Service {
    let grants: any GrantStore
    let clock: any WallClock
    let logger: Logger
    var period: Duration = .seconds(30)

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let touched = try await grants.sweep(at: clock.now)
                    if touched > 0 { logger.debug("sweeper touched \(touched) rows") }
                } catch is CancellationError {
                    return   // shutting down
                } catch {
                    logger.warning("expiry sweep failed: \(error)")
                }
                try await Task.sleep(for: period)
            }
        }
    }
}
