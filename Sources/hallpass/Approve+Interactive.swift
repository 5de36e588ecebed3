import Foundation
import HallpassClient
import HallpassCore
import HallpassSettings
import HallpassTerminal
import HallpassTUI

extension Approve {
    /// Names the inherited fd on which `hallpass serve`'s SSH front hands over a session.
    static let sessionDescriptorVariable = "HALLPASS_SSH_SESSION_FD"

    /// The consent session the SSH front opened for the key or password that authenticated the
    /// connection, read once from the inherited pipe named in the environment (never argv, never
    /// the secret itself in the environment), which is then closed. Nil when there is none or it
    /// is not a pipe holding a session token.
    static func takeHandedOverSession(environment: [String: String]) -> String? {
        guard let name = environment[sessionDescriptorVariable] else { return nil }
        unsetenv(sessionDescriptorVariable)
        guard let fd = Int32(name), fd >= 3 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFIFO else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while bytes.count <= 512 {
            let count = read(fd, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        let token = String(decoding: bytes, as: UTF8.self)
        guard token.hasPrefix("cs_"), token.count <= 512,
              token.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F })
        else { return nil }
        return token
    }

    /// The flags as settings, over the file's and the environment's `theme` and `language`.
    var flags: [Setting] {
        var flags = [Setting("server", server, from: .flag("--server")),
                     Setting("idle_timeout", String(idleTimeout), from: .flag("--idle-timeout"))]
        if let theme { flags.append(Setting("theme", theme, from: .flag("--theme"))) }
        if let lang { flags.append(Setting("language", lang, from: .flag("--lang"))) }
        if kiosk { flags.append(Setting("kiosk", "true", from: .flag("--kiosk"))) }
        return flags
    }

    /// The consent screen (or its plain-prompt form) until the person quits.
    func interactive() async throws {
        if passwordStdin { throw CLIError("--password-stdin needs --decision; the consent screen asks for the password", exitCode: 64) }
        let environment = ProcessInfo.processInfo.environment
        let handedOver = Approve.takeHandedOverSession(environment: environment)
        let settings = try SettingsLoader.load(ConsentFrontSettings.self, file: config, environment: environment, flags: flags)
        let server = settings.server
        let language: Language
        if let tag = settings.language {
            guard let chosen = Language(tag: tag) else { throw CLIError("--lang must be en or zh-Hans, not \(tag)", exitCode: 64) }
            language = chosen
        } else {
            language = Language.fromLocale(environment)
        }
        let strings = language.strings
        let url = URL(string: server)!
        let service = HTTPConsentService(api: ConsentAPIClient(server: url), front: settings.kiosk ? ConsentFront.kiosk : ConsentFront.tui)

        let dumb = (environment["TERM"] ?? "dumb") == "dumb"
        if plain || dumb || isatty(STDIN_FILENO) != 1 || isatty(STDOUT_FILENO) != 1 {
            let flow = PlainConsentFlow(service: service, strings: strings, language: language, serverName: server, io: TerminalLineIO())
            await flow.run(user: user, code: code)
            return
        }

        let (chosenTheme, loadWarning) = ThemeCatalog.standard().load(settings.theme)
        // The warning quotes the theme file's own text: it goes through the sanitizer too.
        let warning = loadWarning.map(TerminalText.sanitize)
        if let warning { FileHandle.standardError.write(Data("hallpass: \(warning)\n".utf8)) }
        if settings.kiosk {
            for signalNumber in [SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU] { signal(signalNumber, SIG_IGN) }
        }
        // A handed-over session may still wait for the authenticator's code (an SSH password
        // login of a user with one): the screen then opens on the code prompt.
        var handedOverLogin: ConsentLogin?
        if let handedOver {
            let status = try? await ConsentAPIClient(server: url).sessionStatus(session: handedOver)
            handedOverLogin = ConsentLogin(session: handedOver, user: status?.user ?? user ?? "", otpRequired: status?.otpRequired ?? false)
        }
        var state = ConsentState(now: Date(), serverName: server, kiosk: settings.kiosk, idleTimeout: TimeInterval(settings.idleTimeout),
                                 user: user, code: code, session: handedOverLogin)
        // The inbox (CIBA) is followed by push while logged in (read each second without the
        // socket); --inbox opens on it.
        state.inboxEnabled = true
        state.inbox.openWhenListed = inbox
        // ncurses runs on the backend's own thread; the program awaits its keys beside the
        // service calls and the clock (ARCHITECTURE.md §3b).
        var failure: String?
        do {
            let backend = try await NCursesBackend.start()
            await ConsentProgram(state: state, service: service, backend: backend, theme: chosenTheme, strings: strings).run()
            await backend.stop()
        } catch {
            failure = "\(error)"
        }
        if let warning { FileHandle.standardError.write(Data("hallpass: \(warning)\n".utf8)) }
        if let failure { throw CLIError(failure) }
    }
}
