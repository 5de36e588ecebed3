import ArgumentParser
import NIOCore
import NIOPosix

// Run Swift concurrency on NIO's event loops (EventLoopExecutor). It must happen before anything
// else uses concurrency, hence this main.swift; `serve` warns when it could not.
let concurrencyRunsOnEventLoops = EventLoopExecutor.install()

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
