import Foundation
import Synchronization

/// Group commit: concurrent writers hand their items to one flusher, which writes everything
/// queued in a single transaction (one fsync) and then answers each writer. A writer is only
/// answered after the commit that contains its item, so durability is unchanged; throughput
/// under concurrency is bounded by fsyncs per second times the batch size, not by fsyncs alone.
final class GroupCommit<Item: Sendable, Outcome: Sendable>: Sendable {
    typealias Flush = @Sendable ([Item]) async throws -> [Outcome]

    private struct Waiting {
        var item: Item
        var continuation: CheckedContinuation<Outcome, any Error>
    }

    private struct State {
        var queue: [Waiting] = []
        var flushing = false
    }

    private let state = Mutex(State())
    private let flush: Flush
    private let maxBatch: Int

    init(maxBatch: Int = 512, flush: @escaping Flush) {
        self.flush = flush
        self.maxBatch = maxBatch
    }

    func submit(_ item: Item) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let startFlusher = state.withLock { state -> Bool in
                state.queue.append(Waiting(item: item, continuation: continuation))
                if state.flushing { return false }
                state.flushing = true
                return true
            }
            if startFlusher {
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Waiting] in
                let batch = Array(state.queue.prefix(maxBatch))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.flushing = false }
                return batch
            }
            if batch.isEmpty { return }
            do {
                let outcomes = try await flush(batch.map(\.item))
                for (waiting, outcome) in zip(batch, outcomes) { waiting.continuation.resume(returning: outcome) }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
    }
}
