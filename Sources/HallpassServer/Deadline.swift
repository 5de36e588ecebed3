import Synchronization

/// The result of `work`, or nil when it has not finished within `deadline`. Unlike a task
/// group, this returns at the deadline even if `work` ignores cancellation (a query waiting for
/// a pool connection to a database that does not answer); the abandoned task is cancelled and
/// left to finish on its own.
public func firstOf<Result: Sendable>(deadline: Duration, _ work: @escaping @Sendable () async -> Result) async -> Result? {
    let once = Mutex<CheckedContinuation<Result?, Never>?>(nil)
    let resume: @Sendable (Result?) -> Void = { value in
        once.withLock { c in
            c?.resume(returning: value)
            c = nil
        }
    }
    var tasks: [Task<Void, Never>] = []
    let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result?, Never>) in
        once.withLock { $0 = continuation }
        tasks.append(Task { resume(await work()) })
        tasks.append(Task {
            try? await Task.sleep(for: deadline)
            resume(nil)
        })
    }
    for task in tasks { task.cancel() }
    return result
}
