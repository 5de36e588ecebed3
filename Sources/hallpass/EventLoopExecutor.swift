import CHallpassRuntime
import NIOCore
import NIOPosix

/// Runs Swift concurrency's global executor on NIO's event loops
/// (`MultiThreadedEventLoopGroup.singleton`), so a request handler does not hop between the
/// network threads and a second thread pool: measured at about 1.8× the token endpoint's
/// throughput on 2 cores (BENCHMARKS.md "Footprint").
///
/// What `NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()`
/// does, except for how it finds the runtime's hook: NIO looks it up with `dlsym`, which finds
/// nothing in the static release binary (the runtime's symbols are hidden there), so that call
/// silently returned false. `hp_install_enqueue_global_hook` links to the variable instead.
enum EventLoopExecutor {
    private typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void

    /// Must run on the main thread before anything uses concurrency, once. Returns whether the
    /// hook was installed (false when something else installed one first).
    static func install() -> Bool {
        // The hook's signature is the runtime's; NIO trusts it below Swift 6.6 only, and so do we.
        #if compiler(>=6.6)
        return false
        #else
        let hook: EnqueueGlobalHook = { job, _ in
            // `any()` is sticky: on one of the group's loops, it is that loop (no thread switch).
            MultiThreadedEventLoopGroup.singleton.any().enqueue(ExecutorJob(job))
        }
        return withUnsafeTemporaryAllocation(of: EnqueueGlobalHook.self, capacity: 1) { storage in
            storage.baseAddress!.initialize(to: hook)
            // A thin function is one code pointer; the runtime calls it with the Swift convention.
            return storage.baseAddress!.withMemoryRebound(to: UnsafeRawPointer.self, capacity: 1) {
                hp_install_enqueue_global_hook($0.pointee)
            }
        }
        #endif
    }
}
