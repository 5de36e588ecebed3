import Foundation
import HallpassCore

/// Line-based input and output for plain mode.
public protocol LineIO: AnyObject {
    /// Prints `prompt` (no newline) and reads one line; nil at end of input.
    func ask(_ prompt: String) -> String?
    /// Like `ask`, without echoing what is typed when a terminal is attached.
    func askSecret(_ prompt: String) -> String?
    func say(_ line: String)
}

/// The consent flow as plain line prompts (`--plain`, `TERM=dumb`, or no terminal): the same
/// steps and rules as the screens, usable with a screen reader and from scripts. Deny is the
/// default answer; approving needs the word.
public struct PlainConsentFlow {
    let service: any ConsentService
    let strings: Strings
    let io: any LineIO
    let language: Language
    let serverName: String

    public init(service: any ConsentService, strings: Strings, language: Language, serverName: String, io: any LineIO) {
        self.service = service
        self.strings = strings
        self.language = language
        self.serverName = serverName
        self.io = io
    }

    var zh: Bool { language == .simplifiedChinese }

    /// Runs until end of input or an empty code; returns the number of decisions made.
    @discardableResult
    public func run(user presetUser: String?, code presetCode: String?) async -> Int {
        guard let login = await logIn(presetUser) else { return 0 }
        io.say(strings.loggedInAs(TerminalText.sanitize(login.user)))
        var decisions = 0
        var preset = presetCode
        while true {
            let code: String
            if let p = preset { code = p; preset = nil } else {
                guard let line = io.ask(strings.codeTitle + (zh ? "（留空退出）：" : " (empty to finish): ")),
                      !line.trimmingCharacters(in: .whitespaces).isEmpty else { break }
                code = line
            }
            let (letters, rejected) = CodeLetters.accept(code)
            if let rejected {
                io.say("✗ " + strings.codeBadCharacter("“\(TerminalText.sanitize(String(rejected)))”"))
                continue
            }
            guard letters.count == 8 else { io.say("! " + strings.codeIncomplete); continue }
            do {
                let request = try await service.lookup(code: String(letters), session: login.session)
                describe(request)
                if try await decide(request, session: login.session) { decisions += 1 }
            } catch {
                report(error)
                if error == .loginRequired || error == .unreachable { break }
            }
        }
        await service.logout(session: login.session)
        return decisions
    }

    private func logIn(_ preset: String?) async -> ConsentLogin? {
        for _ in 0..<3 {
            guard let user = preset ?? io.ask(strings.userName + ": "), !user.isEmpty,
                  let password = io.askSecret(strings.password + ": ") else { return nil }
            do {
                let login = try await service.login(user: user, password: password)
                guard login.otpRequired else { return login }
                return await secondFactor(login)
            } catch .loginLocked(let seconds) {
                io.say("✗ " + strings.loginLocked(Strings.clock(seconds)))
                return nil
            } catch .unreachable {
                io.say(strings.unreachable(serverName))
                return nil
            } catch {
                io.say("✗ " + strings.loginWrong)
            }
        }
        return nil
    }

    /// A login that waits for a code from the authenticator (ARCHITECTURE.md §4.8): three tries.
    private func secondFactor(_ login: ConsentLogin) async -> ConsentLogin? {
        let words = strings.secondFactor
        io.say(words.loginTitle)
        for _ in 0..<3 {
            guard let code = io.askSecret(words.codeLabel + ": "), !code.isEmpty else { break }
            do {
                try await service.verifyCode(code, session: login.session)
                return ConsentLogin(session: login.session, user: login.user)
            } catch .wrongCode(let message) {
                io.say("✗ " + TerminalText.sanitize(message))
            } catch {
                report(error)
                break
            }
        }
        await service.logout(session: login.session)
        return nil
    }

    private func describe(_ request: PendingRequest) {
        let s = strings
        io.say("")
        io.say("== " + (request.webSignIn == nil ? s.consentHeading : s.webSignInHeading) + " ==")
        io.say("\(s.clientNameLabel): \(TerminalText.sanitize(request.clientName))")
        io.say("\(s.clientIDLabel): \(TerminalText.sanitize(request.clientID))")
        if let web = request.webSignIn { io.say("\(s.returnsToLabel): \(TerminalText.sanitize(web.redirectHost))") }
        io.say("\(request.webSignIn == nil ? s.deviceIPLabel : s.browserIPLabel): \(TerminalText.sanitize(request.deviceIP))"
               + (request.proximity.map { " (\(s.proximityText($0)))" } ?? ""))
        io.say("\(s.userAgentLabel): \(TerminalText.sanitize(request.userAgent))")
        io.say("\(s.askedLabel): \(s.secondsAgo(request.requestedSecondsAgo))")
        io.say("\(s.expiresLabel): \(Strings.clock(request.expiresIn))")
        io.say(s.scopesLabel)
        for scope in request.scopes {
            io.say("  - \(TerminalText.sanitize(scope.name)): \(TerminalText.sanitize(scope.description))")
        }
        io.say(request.proximity == .differentNetwork ? s.differentNetworkWarning
               : request.webSignIn == nil ? s.phishingWarning : s.webSignInWarning)
        if let stepUp = request.secondFactor { io.say("! " + TerminalText.sanitize(stepUp)) }
    }

    /// Asks until the answer is clear; true when a decision was recorded.
    private func decide(_ request: PendingRequest, session: String) async throws(ConsentFailure) -> Bool {
        let prompt = zh
            ? "输入 approve 批准全部权限，或 approve 加上要批准的权限（空格分隔）；输入 deny 或直接回车拒绝："
            : "Type 'approve' for all permissions, 'approve SCOPE…' for some, or 'deny' (Enter = deny): "
        while true {
            guard let answer = io.ask(prompt)?.trimmingCharacters(in: .whitespaces) else { return false }
            var words = answer.split(separator: " ").map(String.init)
            let verb = words.isEmpty ? "deny" : words.removeFirst().lowercased()
            switch verb {
            case "deny", "d", "n", "no":
                _ = try await service.deny(code: request.userCode, session: session)
                io.say(strings.deniedTitle + " — " + strings.deniedBody)
                return true
            case "approve":
                let requested = request.scopes.map(\.name)
                let chosen = words.isEmpty ? requested : words
                if let unknown = chosen.first(where: { !requested.contains($0) }) {
                    io.say("! \(TerminalText.sanitize(unknown)): " + (zh ? "不是请求的权限之一。" : "not one of the requested permissions."))
                    continue
                }
                let decision: ConsentDecision
                do {
                    decision = try await service.approve(code: request.userCode, scopes: chosen, otp: nil, session: session)
                } catch .codeRequired(let reason) {
                    // Step-up: a fresh code, asked once per try; Enter alone goes back to the question.
                    io.say("! " + TerminalText.sanitize(reason))
                    guard let code = io.askSecret(strings.secondFactor.codeLabel + ": "), !code.isEmpty else { continue }
                    do {
                        decision = try await service.approve(code: request.userCode, scopes: chosen, otp: code, session: session)
                    } catch .wrongCode(let message) {
                        io.say("✗ " + TerminalText.sanitize(message))
                        continue
                    }
                }
                io.say(strings.approvedTitle + " — " + strings.approvedBody(decision.scopes.joined(separator: " ")))
                return true
            default:
                io.say(zh ? "请回答 approve 或 deny。" : "Please answer approve or deny.")
            }
        }
    }

    private func report(_ failure: ConsentFailure) {
        switch failure {
        case .invalidCode(let left): io.say(strings.invalidTitle + " — " + (left.map(strings.guessesLeft) ?? strings.expiredBody))
        case .tooManyCodes(let seconds): io.say(strings.tooManyTitle + " — " + strings.tryAgainIn(Strings.clock(seconds)))
        case .alreadyDecided: io.say(strings.alreadyUsedTitle + " — " + strings.alreadyUsedBody)
        case .loginRequired: io.say(strings.sessionExpired)
        case .unreachable: io.say(strings.unreachable(serverName))
        case .refused(let message), .codeRequired(let message), .wrongCode(let message):
            io.say(strings.errorTitle + " — " + TerminalText.sanitize(message))
        case .wrongCredentials, .loginLocked: io.say(strings.loginWrong)
        }
    }
}
