import Foundation
import HallpassCore
import Synchronization

/// When each pending device grant was last polled, in memory and per replica, for `slow_down`
/// (RFC 8628 §3.5). Bounded; losing it (a restart, another replica) only lets a device poll
/// early once.
final class PollLedger: Sendable {
    private let pacer = PollPacer()
    private let lastPolls = Mutex<[Int64: Date]>([:])
    let capacity: Int

    init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    /// Records a poll of `grantID` at `now` and judges it against `interval`.
    func pace(grantID: Int64, interval: Int, now: Date) -> PollPacer.Verdict {
        lastPolls.withLock { polls in
            let verdict = pacer.judge(previousPoll: polls[grantID], interval: interval, now: now)
            polls[grantID] = now
            if polls.count > capacity {
                // Forget the oldest half; forgetting only forgives one early poll.
                let cutoff = polls.values.sorted()[polls.count / 2]
                polls = polls.filter { $0.value > cutoff }
            }
            return verdict
        }
    }

    /// The grant is settled: its polls need no pacing any more.
    func forget(grantID: Int64) {
        _ = lastPolls.withLock { $0.removeValue(forKey: grantID) }
    }
}
