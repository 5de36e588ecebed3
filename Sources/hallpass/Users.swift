import ArgumentParser
import Foundation
import HallpassCore
import HallpassServer
import HallpassStore

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the people who approve devices.",
        subcommands: [Add.self, List.self, Disable.self, Enable.self, AddKey.self, Keys.self, RemoveKey.self, UsersTOTP.self])

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
                try await self.store.withStore { store in
                    do {
                        _ = try await store.addUser(name: name, passwordHash: try PasswordHasher.hash(password))
                    } catch let error as StoreError {
                        throw CLIError(error.description)
                    }
                    print("added user \(name)")
                }
            }
        }
    }

    struct List: StoreListing {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var store: StoreOptions

        func rows(in store: any HallpassStorage) async throws -> [User] { try await store.users() }

        func line(_ user: User) -> String { "\(TerminalText.sanitize(user.name))\(user.disabled ? "  (disabled)" : "")" }
    }

    struct Disable: UserSwitch {
        static let configuration = CommandConfiguration(abstract: "Disable a user: no new approvals, no new tokens.")
        static let disables = true
        @OptionGroup var store: StoreOptions
        @Argument var name: String
    }

    struct Enable: UserSwitch {
        static let configuration = CommandConfiguration(abstract: "Enable a disabled user again.")
        static let disables = false
        @OptionGroup var store: StoreOptions
        @Argument var name: String
    }
}

/// `users disable` and `users enable`: one command each, one behaviour.
protocol UserSwitch: AsyncParsableCommand {
    static var disables: Bool { get }
    var store: StoreOptions { get }
    var name: String { get }
}

extension UserSwitch {
    func run() async throws {
        try await runReporting {
            guard try await store.withStore({ try await $0.setDisabled(name: name, Self.disables) }) else {
                throw CLIError("no user named \(TerminalText.sanitize(name))")
            }
            print("\(Self.disables ? "disabled" : "enabled") user \(name)")
        }
    }
}
