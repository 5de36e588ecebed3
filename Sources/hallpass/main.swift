import ArgumentParser
import NIOCore
import NIOPosix

// Run Swift concurrency on NIO's event loops, so a request handler does not hop between the
// network threads and a second thread pool (about 1.8× the token-endpoint throughput measured on
// 2 cores). It must happen before anything else uses concurrency, hence this main.swift.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()

/// What `AsyncParsableCommand.main()` does; in a function so that `run()` resolves to the async
/// requirement (top-level code would pick the synchronous one, which only prints help).
func runHallpass() async {
    do {
        var command = try await Hallpass.asyncParseAsRoot()
        if var asyncCommand = command as? any AsyncParsableCommand {
            try await asyncCommand.run()
        } else {
            try command.run()
        }
    } catch {
        Hallpass.exit(withError: error)
    }
}

StrictInput.refuseInvalidArgumentsAndEnvironment()
await runHallpass()
