import Foundation
import HallpassCore
import HallpassStore
import Logging
import ServiceLifecycle

/// Marks expired grants and deletes long-dead rows every 30 seconds, keeping tables bounded.
/// Every 5 seconds it also claims the CIBA ping and push requests that ran out undecided and
/// hands them to the notifier (ARCHITECTURE.md §4.9), so such a client hears of the expiry
/// within seconds. Safe on every replica: each sweep is one idempotent transaction, and each
/// expired request is claimed by exactly one replica.
struct ExpirySweeper: Service {
    let grants: any GrantStore
    let clock: any WallClock
    let logger: Logger
    var backchannel: BackchannelNotifier?
    var tick: Duration = .seconds(5)
    /// Full sweeps happen every this many ticks (30 s).
    var ticksPerSweep = 6

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            var ticks = 0
            while !Task.isCancelled {
                do {
                    try await claimExpiredBackchannel()
                    if ticks % ticksPerSweep == 0 {
                        let touched = try await grants.sweep(at: clock.now)
                        if touched > 0 { logger.debug("sweeper touched \(touched) rows") }
                    }
                } catch is CancellationError {
                    return   // shutting down
                } catch {
                    logger.warning("expiry sweep failed: \(error)")
                }
                ticks += 1
                try await Task.sleep(for: tick)
            }
        }
    }

    /// Expires the notified backchannel requests that ran out, and tells their clients.
    func claimExpiredBackchannel() async throws {
        let expired = try await grants.expireNotifiedBackchannel(at: clock.now)
        guard let backchannel, !expired.isEmpty else { return }
        for grant in expired {
            Task { await backchannel.decided(grant) }
        }
    }
}
