import ArgumentParser
import CHallpassRuntime
import Foundation
import NIOCore
import NIOPosix

// `serve`: a reload (SIGHUP, `systemctl reload`) that arrives while the server is starting must
// not end it (the default action); HangupReload takes the signal once the services run. Only for
// serve: a consent screen whose terminal hangs up must still end.
if CommandLine.arguments.dropFirst().first == "serve" { signal(SIGHUP, SIG_IGN) }

// A long-running server's resident memory must not creep (issue 20's soak: +18.5 % in 10 minutes
// at rest, from glibc raising its mmap threshold after large frees, so later large blocks came
// from the heap and its holes were never returned). With the thresholds fixed at 128 KiB the same
// soak grew 3 %. It must happen before the first large allocation.
hp_fix_malloc_thresholds(128 * 1024)

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
