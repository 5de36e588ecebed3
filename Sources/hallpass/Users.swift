import ArgumentParser
import Foundation
import HallpassCore
import HallpassServer
import HallpassStore

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the people who approve devices.",
        subcommands: [Add.self, List.self, Disable.self, Enable.self, AddKey.self, Keys.self, RemoveKey.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user; the password is read from standard input.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "User name (letters, digits, . _ - @).") var name: String
        @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input (required).")
        var passwordStdin = false

        func run() async throws {
            try await runReporting {
                guard passwordStdin else { throw CLIError("pass the password on standard input with --password-stdin") }
                do { try User.validate(name: name) } catch { throw CLIError("\(error)") }
                let password = try readSecretFromStdin(what: "password")
                guard password.count >= 8 else { throw CLIError("a password needs at least 8 characters") }
                let store = try await store.openStore()
                do {
                    _ = try await store.addUser(name: name, passwordHash: try PasswordHasher.hash(password))
                } catch let error as StoreError {
                    throw CLIError(error.description)
                }
                print("added user \(name)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await runReporting {
                for user in try await store.openStore().users() {
                    print("\(TerminalText.sanitize(user.name))\(user.disabled ? "  (disabled)" : "")")
                }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user: no new approvals, no new tokens.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String

        func run() async throws {
            try await runReporting {
                try await setDisabled(name, true, store: store)
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled user again.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String

        func run() async throws {
            try await runReporting {
                try await setDisabled(name, false, store: store)
            }
        }
    }
}

/// `users disable` and `users enable`.
private func setDisabled(_ name: String, _ disabled: Bool, store: StoreOptions) async throws {
    guard try await store.openStore().setDisabled(name: name, disabled) else {
        throw CLIError("no user named \(TerminalText.sanitize(name))")
    }
    print("\(disabled ? "disabled" : "enabled") user \(name)")
}
