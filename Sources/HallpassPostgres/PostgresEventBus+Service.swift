import ServiceLifecycle

/// The bus's LISTEN connection as a Service in `serve`'s ServiceGroup, after the pool and before
/// HTTP and SSH, so it stops after them (ARCHITECTURE.md §1). `serve` calls `start()` before
/// the group runs, so a LISTEN that cannot be set up stops startup with its reason and nothing
/// announced once HTTP is up is missed; `run()` starts it itself otherwise.
extension PostgresEventBus: Service {
    public func run() async throws {
        if !isListening { try await start() }
        try? await gracefulShutdown()   // returns on graceful shutdown, throws on cancellation: either way, stop
        stop()
    }
}
