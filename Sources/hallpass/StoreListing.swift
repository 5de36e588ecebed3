import ArgumentParser
import HallpassStore

/// The `list` commands (`users`, `clients`, `scopes`, `keys`): read rows from the store and
/// print one line each. A row's text goes through `TerminalText.sanitize` in `line(_:)`.
protocol StoreListing: AsyncParsableCommand {
    associatedtype Row
    var store: StoreOptions { get }
    func rows(in store: any HallpassStorage) async throws -> [Row]
    func line(_ row: Row) -> String
}

extension StoreListing {
    func run() async throws {
        try await runReporting {
            try await store.withStore { store in
                for row in try await rows(in: store) { print(line(row)) }
            }
        }
    }
}
