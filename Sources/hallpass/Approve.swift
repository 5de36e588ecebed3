import ArgumentParser
import Foundation
import HallpassClient
import HallpassCore

struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Approve or deny a device through the consent API.",
        discussion: """
            Non-interactive form: hallpass approve --server URL --user NAME --password-stdin \\
                --code CODE --decision approve|deny [--scope "a b"]
            """)

    @Option(help: "The server's issuer URL (default http://127.0.0.1:8080).") var server: String = "http://127.0.0.1:8080"
    @Option(help: "Your user name.") var user: String?
    @Flag(name: .customLong("password-stdin"), help: "Read your password from standard input.") var passwordStdin = false
    @Option(help: "The code shown on the device, e.g. BCDF-GHJK.") var code: String?
    @Option(help: "approve or deny.") var decision: String?
    @Option(help: "Approve only these of the requested scopes, space-separated.") var scope: String?

    func run() async throws {
        try await runReporting {
            guard let code, let decision else {
                throw CLIError("give --code and --decision (the interactive consent screen is not part of this build)", exitCode: 64)
            }
            guard decision == "approve" || decision == "deny" else { throw CLIError("--decision must be approve or deny", exitCode: 64) }
            guard let user else { throw CLIError("--user is required", exitCode: 64) }
            guard passwordStdin else { throw CLIError("pass the password on standard input with --password-stdin", exitCode: 64) }
            do { _ = try UserCode(parsing: code) } catch { throw CLIError("--code: \(error)", exitCode: 64) }
            guard let url = URL(string: server), url.scheme == "http" || url.scheme == "https" else {
                throw CLIError("--server must be an http(s) URL", exitCode: 64)
            }
            let password = try readSecretFromStdin(what: "password")
            let api = ConsentAPIClient(server: url)
            do {
                let session = try await api.login(user: user, password: password)
                defer { Task { await api.logout(session: session.session) } }
                let details = try await api.lookup(code: code, session: session.session)
                let name = TerminalText.sanitize(details.client_name)
                let result = decision == "approve"
                    ? try await api.approve(code: code, scope: scope, session: session.session)
                    : try await api.deny(code: code, session: session.session)
                await api.logout(session: session.session)
                if result.status == "approved" {
                    print("approved \(result.user_code) for client \(TerminalText.sanitize(result.client_id)) (“\(name)”, supplied by the client) with scope: \(result.scope ?? "")")
                } else {
                    print("denied \(result.user_code) for client \(TerminalText.sanitize(result.client_id)) (“\(name)”, supplied by the client)")
                }
            } catch let failure as ConsentAPIClient.Failure {
                throw CLIError(TerminalText.sanitize(failure.message), exitCode: failure.status == 429 ? 75 : 1)
            } catch let error as DeviceFlowError {
                throw CLIError(error.description)
            }
        }
    }
}
