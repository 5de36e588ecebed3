import ArgumentParser
import Foundation
import HallpassCore
import HallpassSSH
import HallpassStore

/// `hallpass ssh fingerprint`: the SSH front's host key, to compare with what `ssh` shows.
struct SSH: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The SSH consent front.", subcommands: [Fingerprint.self])

    struct Fingerprint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the SSH host key's fingerprint (the key is made on first use and kept beside the database).")
        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await runReporting {
                let path = SSHHostKey.defaultPath(forDatabase: try store.serverSettings().databasePath)
                let key = try SSHHostKey.loadOrCreate(at: path)
                print("\(key.fingerprint) (ED25519)")
                print("\(key.publicKeyLine.type) \(key.publicKeyLine.blob)")
            }
        }
    }
}

/// `hallpass users add-key | keys | remove-key`: SSH public keys that log a user in.
extension Users {
    struct AddKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-key", abstract: "Register an SSH public key for a user, read from standard input (a .pub line).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "User name.") var name: String

        func run() async throws {
            try await runReporting {
                let limit = 16 * 1024
                let bytes = Array(FileHandle.standardInput.readData(ofLength: limit + 1))
                guard bytes.count <= limit else { throw CLIError("the key on standard input is longer than \(limit) bytes; nothing was stored") }
                let text = try StrictInput.text(bytes, what: "key on standard input")
                let line: SSHPublicKeyLine
                do { line = try SSHPublicKeyLine(parsing: text) } catch { throw CLIError("\(error)") }
                try await self.store.withStore { store in
                    let user = try await Self.user(name, in: store)
                    let record = SSHKeyRecord(userID: user.id, type: line.type, blob: line.blob, fingerprint: line.fingerprint,
                                              comment: String(TerminalText.sanitize(line.comment).prefix(100)), addedAt: Date())
                    guard try await store.addSSHKey(record) else { throw CLIError("that key is already registered") }
                    print("added \(line.type) key \(line.fingerprint) for \(TerminalText.sanitize(name))")
                }
            }
        }

        static func user(_ name: String, in store: any HallpassStorage) async throws -> User {
            guard let record = try await store.user(named: name) else { throw CLIError("no user named \(TerminalText.sanitize(name))") }
            return record.user
        }
    }

    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "keys", abstract: "List a user's SSH public keys.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "User name.") var name: String

        func run() async throws {
            try await runReporting {
                try await self.store.withStore { store in
                    let user = try await AddKey.user(name, in: store)
                    for key in try await store.sshKeys(userID: user.id) {
                        print("\(key.fingerprint)  \(key.type)  \(TerminalText.sanitize(key.comment))")
                    }
                }
            }
        }
    }

    struct RemoveKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-key", abstract: "Remove one of a user's SSH keys by its fingerprint (see `users keys`).")
        @OptionGroup var store: StoreOptions
        @Argument(help: "User name.") var name: String
        @Argument(help: "Fingerprint, SHA256:….") var fingerprint: String

        func run() async throws {
            try await runReporting {
                try await self.store.withStore { store in
                    let user = try await AddKey.user(name, in: store)
                    guard try await store.removeSSHKey(userID: user.id, fingerprint: fingerprint) else {
                        throw CLIError("\(TerminalText.sanitize(name)) has no key \(TerminalText.sanitize(fingerprint))")
                    }
                    print("removed \(fingerprint)")
                }
            }
        }
    }
}
