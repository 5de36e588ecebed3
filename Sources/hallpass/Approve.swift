import ArgumentParser
import Foundation
import HallpassClient
import HallpassCore
import HallpassTUI

struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Approve or deny devices: the consent screen, or one decision from a script.",
        discussion: """
            Interactive: hallpass approve [--server URL] [--code CODE | --inbox] [--theme NAME] [--lang en|zh-Hans] [--kiosk] [--plain]
            Non-interactive: hallpass approve --server URL --user NAME --password-stdin \\
                (--code CODE | --inbox [--binding-message TEXT]) --decision approve|deny [--scope "a b"] [--otp CODE]
            Plain line prompts are used with --plain, TERM=dumb, or when not attached to a terminal.
            """)

    @Option(help: "The server's issuer URL (default http://127.0.0.1:8080).") var server: String = "http://127.0.0.1:8080"
    @Option(help: "Your user name.") var user: String?
    @Flag(name: .customLong("password-stdin"), help: "Read your password from standard input.") var passwordStdin = false
    @Option(help: "The code shown on the device, e.g. BCDF-GHJK.") var code: String?
    @Option(help: "approve or deny (non-interactive).") var decision: String?
    @Option(help: "Approve only these of the requested scopes, space-separated (non-interactive).") var scope: String?
    @Option(help: "A code from your authenticator app, or a recovery code, when your login or the approval needs one (non-interactive).")
    var otp: String?
    @Flag(help: "Decide a request from your inbox (CIBA: a device named you) instead of a code: the oldest, or the one with --binding-message.")
    var inbox = false
    @Option(name: .customLong("binding-message"), help: "With --inbox: the request whose binding message is exactly this.")
    var bindingMessage: String?
    @Option(help: "Theme name from Themes/ or a .toml path (also HALLPASS_THEME or `theme` in the config).") var theme: String?
    @Option(help: "en or zh-Hans (default: from the locale; also HALLPASS_LANGUAGE).") var lang: String?
    @Flag(help: "Kiosk mode: signal keys do nothing; after each decision or when idle, wipe the screen and log out.") var kiosk = false
    @Flag(help: "Plain line prompts instead of the full-screen interface.") var plain = false
    @Option(name: .customLong("idle-timeout"), help: "Kiosk: seconds without a key before logging out (default 60).") var idleTimeout: Int = 60
    @Option(help: "TOML configuration file (theme, language; also HALLPASS_CONFIG).") var config: String?

    func validate() throws {
        try validateServerURL(server)
        if let code { do { _ = try UserCode(parsing: code) } catch { throw ValidationError("--code: \(error)") } }
        guard (5...86_400).contains(idleTimeout) else { throw ValidationError("--idle-timeout must be between 5 and 86400 seconds") }
        if let decision, decision != "approve", decision != "deny" { throw ValidationError("--decision must be approve or deny") }
        if let otp { do { _ = try OneTimeCode(parsing: otp) } catch { throw ValidationError("--otp: \(error)") } }
        if otp != nil, decision == nil { throw ValidationError("--otp goes with --decision; the consent screen asks for the code itself") }
        if inbox, code != nil { throw ValidationError("give --code or --inbox, not both") }
        if bindingMessage != nil, !inbox { throw ValidationError("--binding-message goes with --inbox") }
        if bindingMessage != nil, decision == nil { throw ValidationError("--binding-message goes with --decision") }
    }

    func run() async throws {
        try await runReporting {
            if decision != nil {
                try await decideOnce()
            } else {
                try await interactive()
            }
        }
    }

    /// The user code of the inbox request to decide: the oldest, or the one whose binding message
    /// is `--binding-message`.
    private func inboxRequest(api: ConsentAPIClient, session: String) async throws -> String {
        let waiting = try await api.inbox(session: session).requests
        guard let chosen = bindingMessage.map({ wanted in waiting.first { $0.bindingMessage == wanted } }) ?? waiting.first else {
            throw CLIError(bindingMessage == nil ? "your inbox is empty"
                           : "no request in your inbox shows “\(TerminalText.sanitize(bindingMessage ?? ""))”")
        }
        if let message = chosen.bindingMessage {
            FileHandle.standardError.write(Data("hallpass: the device shows: \(TerminalText.sanitize(message))\n".utf8))
        }
        return chosen.userCode
    }

    /// One decision from a script: no screen at all.
    private func decideOnce() async throws {
        guard code != nil || inbox, let decision else { throw CLIError("give --code (or --inbox) with --decision", exitCode: 64) }
        guard let user else { throw CLIError("--user is required", exitCode: 64) }
        guard passwordStdin else { throw CLIError("pass the password on standard input with --password-stdin", exitCode: 64) }
        let password = try readSecretFromStdin(what: "password")
        let api = ConsentAPIClient(server: URL(string: server)!)
        do {
            let session = try await api.login(user: user, password: password, front: ConsentFront.cli)
            let decided: (result: ConsentAPI.DecisionAnswer, name: String)
            var code = self.code ?? ""
            do {
                // A user with an authenticator finishes logging in with the code; that code is
                // fresh, so a step-up approval right after needs no second one.
                var codeUsed = false
                if session.otpRequired {
                    guard let otp else {
                        throw CLIError("\(TerminalText.sanitize(user)) has an authenticator: give its current code with --otp", exitCode: 64)
                    }
                    _ = try await api.verifyCode(otp, session: session.session)
                    codeUsed = true
                }
                if inbox { code = try await inboxRequest(api: api, session: session.session) }
                let details = try await api.lookup(code: code, session: session.session)
                if details.proximity == .differentNetwork {
                    FileHandle.standardError.write(Data(("hallpass: warning: the device asked from "
                        + "\(TerminalText.sanitize(details.deviceIP)), a different network from yours\n").utf8))
                }
                decided = (decision == "approve"
                    ? try await api.approve(code: code, scope: scope, otp: codeUsed ? nil : otp, session: session.session)
                    : try await api.deny(code: code, session: session.session), TerminalText.sanitize(details.clientName))
            } catch {
                await api.logout(session: session.session)   // the session ends with the command, failed or not
                throw error
            }
            await api.logout(session: session.session)
            let (result, name) = decided
            if result.status == .approved {
                print("approved \(result.userCode) for client \(TerminalText.sanitize(result.clientID)) (“\(name)”, supplied by the client) with scope: \(result.scope ?? "")")
            } else {
                print("denied \(result.userCode) for client \(TerminalText.sanitize(result.clientID)) (“\(name)”, supplied by the client)")
            }
        } catch let failure as ConsentAPI.Failure {
            // EX_TEMPFAIL for a lockout: trying again later may work.
            let hint = failure.code == .otpRequired ? " (give the current code with --otp)" : ""
            throw CLIError(TerminalText.sanitize(failure.message) + hint, exitCode: failure.code == .tooManyAttempts ? 75 : 1)
        } catch let answer as ConsentAPIClient.UnexpectedAnswer {
            throw CLIError(answer.description)
        } catch let error as DeviceFlowError {
            throw CLIError(TerminalText.sanitize(error.description))
        }
    }
}
