import Foundation
import HallpassClient
import HallpassCore
import HallpassServer
import HallpassTerminal
import HallpassTUI

extension Approve {
    /// The environment variable through which `hallpass serve`'s SSH front passes a session.
    static let sessionVariable = "HALLPASS_SSH_SESSION"

    /// The consent screen (or its plain-prompt form) until the person quits.
    func interactive() async throws {
        if passwordStdin { throw CLIError("--password-stdin needs --decision; the consent screen asks for the password", exitCode: 64) }
        let environment = ProcessInfo.processInfo.environment
        // The SSH front hands over a consent session for the key or password that authenticated
        // the connection: by environment (never argv), read once and removed at once.
        let handedOver = environment[Approve.sessionVariable].flatMap { $0.isEmpty ? nil : $0 }
        unsetenv(Approve.sessionVariable)
        let settings = try ConfigurationLoader.load(file: config, environment: environment)
        let language: Language
        if let tag = lang ?? settings.language {
            guard let chosen = Language(tag: tag) else { throw CLIError("--lang must be en or zh-Hans, not \(tag)", exitCode: 64) }
            language = chosen
        } else {
            language = Language.fromLocale(environment)
        }
        let strings = language.strings
        let url = URL(string: server)!
        let service = HTTPConsentService(api: ConsentAPIClient(server: url))

        let dumb = (environment["TERM"] ?? "dumb") == "dumb"
        if plain || dumb || isatty(STDIN_FILENO) != 1 || isatty(STDOUT_FILENO) != 1 {
            let flow = PlainConsentFlow(service: service, strings: strings, language: language, serverName: server, io: TerminalLineIO())
            await flow.run(user: user, code: code)
            return
        }

        let (chosenTheme, loadWarning) = ThemeCatalog.standard().load(theme ?? settings.theme)
        // The warning quotes the theme file's own text: it goes through the sanitizer too.
        let warning = loadWarning.map(TerminalText.sanitize)
        if let warning { FileHandle.standardError.write(Data("hallpass: \(warning)\n".utf8)) }
        if kiosk {
            for signalNumber in [SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU] { signal(signalNumber, SIG_IGN) }
        }
        let state = ConsentState(now: Date(), serverName: server, kiosk: kiosk, idleTimeout: TimeInterval(idleTimeout),
                                 user: user, code: code,
                                 session: handedOver.map { ConsentLogin(session: $0, user: user ?? "") })
        let failure: String? = await withCheckedContinuation { continuation in
            // ncurses wants one thread of its own; effects run as tasks beside it.
            let thread = Thread {
                do {
                    let backend = try NCursesBackend()
                    let program = ConsentProgram(state: state, service: service, backend: backend, theme: chosenTheme, strings: strings)
                    program.run()
                    backend.stop()
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: "\(error)")
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        if let warning { FileHandle.standardError.write(Data("hallpass: \(warning)\n".utf8)) }
        if let failure { throw CLIError(failure) }
    }
}
