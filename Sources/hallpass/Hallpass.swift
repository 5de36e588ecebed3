import ArgumentParser
import Foundation
import HallpassCore

struct Hallpass: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hallpass",
        abstract: "An OAuth 2.0 device authorization server (RFC 8628) with a terminal consent front.",
        version: BuildInfo.versionLine,
        subcommands: [Serve.self, Users.self, Clients.self, Scopes.self, Keys.self, Grants.self, Audit.self, Approve.self, Login.self, Logout.self, SSH.self, Token.self, Backup.self, Restore.self, Doctor.self],
        defaultSubcommand: nil)
}

/// `--db` and `--config`, shared by every command that touches the store (ARCHITECTURE.md §6).
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: "TOML configuration file (also HALLPASS_CONFIG).")
    var config: String?

    @Option(name: .long, help: "SQLite database path (also HALLPASS_DB; default ./hallpass.db).")
    var db: String?
}

/// One readable line on stderr and a non-zero exit: how every command fails.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32 = 1
    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }
    var description: String { message }
}

/// Runs `body`, turning any failure into one line on stderr and an exit code. A message may
/// quote what a server, client or token said, so each of its lines goes through the sanitizer.
func runReporting(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        reportError(error.message)
        throw ExitCode(error.exitCode)
    } catch let error as ExitCode {
        throw error
    } catch let error as CleanExit {
        throw error
    } catch {
        reportError("\(error)")
        throw ExitCode(1)
    }
}

func reportError(_ message: String) {
    let safe = message.split(separator: "\n", omittingEmptySubsequences: false).map { TerminalText.sanitize(String($0)) }
    FileHandle.standardError.write(Data("hallpass: \(safe.joined(separator: "\n"))\n".utf8))
}

/// `--server` of the commands that talk to a running server: an http(s) URL.
func validateServerURL(_ server: String) throws {
    guard URL(string: server).map({ $0.scheme == "http" || $0.scheme == "https" }) == true else {
        throw ValidationError("--server must be an http(s) URL")
    }
}

/// Reads a secret from standard input: the first line, without its line ending, as UTF-8
/// (a bad byte is refused, not replaced).
func readSecretFromStdin(what: String) throws -> String {
    guard let line = try StrictInput.readLineBytes(what: what) else {
        throw CLIError("expected the \(what) on standard input")
    }
    let secret = try StrictInput.text(line, what: "\(what) on standard input")
    guard !secret.isEmpty else { throw CLIError("the \(what) on standard input is empty") }
    return secret
}

/// Writes a line to standard output at once (no stdio buffering), so a script or test reading
/// a pipe sees the user code while the command keeps waiting.
func writeOut(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
