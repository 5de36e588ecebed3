import Foundation
import HallpassCore
import Synchronization
import Testing
@testable import HallpassTUI

/// An in-memory consent service that records what was asked of it.
final class FakeConsentService: ConsentService, @unchecked Sendable {
    let calls = Mutex<[String]>([])
    var request = Fixture.request

    func login(user: String, password: String) async throws(ConsentFailure) -> ConsentLogin {
        calls.withLock { $0.append("login \(user)") }
        guard password == "pw" else { throw .wrongCredentials }
        // carol has an authenticator: her session waits for a code.
        return ConsentLogin(session: "cs_1", user: user, otpRequired: user == "carol")
    }
    func verifyCode(_ code: String, session: String) async throws(ConsentFailure) {
        calls.withLock { $0.append("otp \(code)") }
        guard code == "123456" else { throw .wrongCode("wrong code") }
    }
    func enrollAuthenticator(session: String) async throws(ConsentFailure) -> AuthenticatorEnrolment {
        calls.withLock { $0.append("enroll") }
        return AuthenticatorEnrolment(secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", uri: "otpauth://totp/x",
                                      qr: (0..<25).map { y in (0..<25).map { x in (x * y) % 3 == 0 } })
    }
    func confirmAuthenticator(code: String, session: String) async throws(ConsentFailure) -> [String] {
        calls.withLock { $0.append("confirm \(code)") }
        guard code == "123456" else { throw .wrongCode("that code does not match") }
        return (0..<10).map { "abcd-efgh-jkmn-pq\($0)\($0)" }
    }
    func lookup(code: String, session: String) async throws(ConsentFailure) -> PendingRequest {
        calls.withLock { $0.append("lookup \(code)") }
        guard code == "BCDFGHJK" || code == "BCDF-GHJK" else { throw .invalidCode(guessesLeft: 4) }
        return request
    }
    func approve(code: String, scopes: [String], otp: String?, session: String) async throws(ConsentFailure) -> ConsentDecision {
        calls.withLock { $0.append("approve \(code) \(scopes.joined(separator: " "))" + (otp.map { " otp \($0)" } ?? "")) }
        // `admin` is a step-up scope here.
        if scopes.contains("admin") {
            guard let otp else { throw .codeRequired("admin needs a fresh code from your authenticator") }
            guard otp == "123456" else { throw .wrongCode("wrong code") }
        }
        return ConsentDecision(approved: true, scopes: scopes)
    }
    func deny(code: String, session: String) async throws(ConsentFailure) -> ConsentDecision {
        calls.withLock { $0.append("deny \(code)") }
        return ConsentDecision(approved: false, scopes: [])
    }
    func logout(session: String) async {
        calls.withLock { $0.append("logout \(session)") }
    }
    /// What `watch` waits for; by default, nothing within the test.
    var watchAnswer: @Sendable () async -> GrantOutcome? = {
        try? await Task.sleep(for: .seconds(3600))
        return nil
    }
    func watch(code: String, session: String) async -> GrantOutcome? {
        await watchAnswer()
    }
}

/// A terminal that replays scripted keys, one after each frame, each once the screen shows its
/// `until` text; it keeps every frame.
final class ScriptedBackend: TerminalBackend {
    var steps: [(until: String?, key: Key)]
    var frames: [CellBuffer] = []
    var wipes = 0
    var size: (width: Int, height: Int) = (80, 24)
    private(set) var deliver: (@Sendable (TerminalEvent) -> Void)?

    init(_ steps: [(until: String?, key: Key)]) { self.steps = steps }

    func startReading(_ deliver: @escaping @Sendable (TerminalEvent) -> Void) { self.deliver = deliver }
    func wipe() { wipes += 1 }

    func draw(_ buffer: CellBuffer, theme: Theme) {
        frames.append(buffer)
        guard let deliver, let step = steps.first else { return }
        if let until = step.until, !buffer.lines.joined(separator: "\n").contains(until) { return }
        steps.removeFirst()
        deliver(.key(step.key))
    }
}

/// A terminal whose keys the test sends while the program runs; it keeps every frame.
final class LiveBackend: TerminalBackend, Sendable {
    private let state = Mutex<(frames: [CellBuffer], deliver: (@Sendable (TerminalEvent) -> Void)?)>(([], nil))
    var size: (width: Int, height: Int) { (80, 24) }
    var frames: [CellBuffer] { state.withLock { $0.frames } }
    var deliver: (@Sendable (TerminalEvent) -> Void)? { state.withLock { $0.deliver } }
    var lastScreen: String { frames.last?.lines.joined(separator: "\n") ?? "" }

    func startReading(_ deliver: @escaping @Sendable (TerminalEvent) -> Void) { state.withLock { $0.deliver = deliver } }
    func draw(_ buffer: CellBuffer, theme: Theme) { state.withLock { $0.frames.append(buffer) } }
    func wipe() {}
}

@Suite struct ProgramTests {
    static func keys(_ text: String) -> [(until: String?, key: Key)] { text.map { (nil, .character($0)) } }

    @Test func aScriptedSessionApprovesASubsetThroughTheService() async {
        let service = FakeConsentService()
        var steps: [(until: String?, key: Key)] = Self.keys("alice")
        steps += [(nil, .tab)] + Self.keys("pw") + [(nil, .enter)]
        steps += [(until: "Enter the code", .character("b"))] + Self.keys("cdf ghjk") + [(nil, .enter)]
        steps += [(until: "You are authorizing", .up), (nil, .character(" ")), (nil, .right), (nil, .enter)]
        steps += [(until: "Approved", .escape), (until: "Enter the code", .escape), (until: "Log in", .escape)]
        let backend = ScriptedBackend(steps)
        let program = ConsentProgram(state: Fixture.state(), service: service, backend: backend, theme: .builtIn, strings: .english)
        await program.run()
        #expect(service.calls.withLock { $0 } == ["login alice", "lookup BCDFGHJK", "approve BCDF-GHJK openid profile read", "logout cs_1"])
        #expect(backend.frames.count > 20)
        #expect(backend.steps.isEmpty)
    }

    /// The loop waits on its stream: a tick that changes nothing paints nothing, push news
    /// about the request on screen shows at once, a resize repaints at the new size.
    @Test func theProgramDrawsWhenSomethingHappensAndOnlyThen() async throws {
        let service = FakeConsentService()
        let news = AsyncStream.makeStream(of: GrantOutcome.self)
        service.watchAnswer = { await news.stream.first { _ in true } }
        let backend = LiveBackend()
        let ticks = Mutex(0)
        let program = ConsentProgram(state: Fixture.loggedIn(), service: service, backend: backend, theme: .builtIn,
                                     strings: .english, now: { ticks.withLock { $0 += 1 }; return Fixture.t0 },
                                     tickInterval: .milliseconds(5))
        let running = Task { await program.run() }
        try await Self.until("reading") { backend.deliver != nil }
        for c in "bcdfghjk" { backend.deliver?(.key(.character(c))) }
        backend.deliver?(.key(.enter))
        try await Self.until("the consent screen") { backend.lastScreen.contains("You are authorizing") }
        let frames = backend.frames.count
        let seen = ticks.withLock { $0 }
        try await Self.until("20 ticks") { ticks.withLock { $0 } >= seen + 20 }
        #expect(backend.frames.count == frames, "ticks that change nothing must not repaint")
        news.continuation.yield(.approved)
        try await Self.until("the push news") { backend.lastScreen.contains("Decided elsewhere") }
        backend.deliver?(.resize(width: 40, height: 12))
        try await Self.until("the resized frame") { backend.frames.last?.width == 40 }
        #expect(backend.frames.last?.height == 12)
        backend.deliver?(.key(.control("c")))
        await running.value
        #expect(service.calls.withLock { $0 } == ["lookup BCDFGHJK", "logout cs_test"])
    }

    /// Waits (up to 30 s: a loaded CI machine runs every suite at once) for `condition`, which the
    /// program's tasks make true; a timeout says which step it was waiting for.
    static func until(_ what: String, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw TimedOut(waitingFor: what) }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
    struct TimedOut: Error { var waitingFor: String }

    @Test func plainModeAsksLineByLineAndDeniesByDefault() async {
        let service = FakeConsentService()
        let io = ScriptedLines(["alice", "pw", "bcdf ghjk", "", "zzzz", "bcdf-ghjk", "approve openid bogus", "approve openid", ""])
        let decisions = await PlainConsentFlow(service: service, strings: .english, language: .english,
                                               serverName: "http://x", io: io).run(user: nil, code: nil)
        #expect(decisions == 2)
        #expect(service.calls.withLock { $0 } == ["login alice", "lookup BCDFGHJK", "deny BCDF-GHJK", "lookup BCDFGHJK",
                                                  "approve BCDF-GHJK openid", "logout cs_1"])
        let out = io.output.joined(separator: "\n")
        #expect(out.contains("Name (from client): Living-room TV"))
        #expect(out.contains("If you did not start this on a device you are holding, choose Deny."))
        #expect(out.contains("! A code has 8 letters."))
        #expect(out.contains("bogus: not one of the requested permissions."))
        #expect(io.secretPrompts == 1)
    }

    /// ARCHITECTURE.md §4.8 in plain mode: the login's code (a wrong one, then the right one),
    /// and a step-up code when approving `admin` (a wrong one goes back to the question).
    @Test func plainModeAsksForTheAuthenticatorsCodes() async {
        let service = FakeConsentService()
        service.request.scopes.append(PendingRequest.Scope(name: "admin", description: "Everything"))
        service.request.secondFactor = "admin needs a fresh code from your authenticator"
        let io = ScriptedLines(["carol", "pw", "000000", "123456", "bcdfghjk", "approve admin", "111111", "approve admin", "123456", ""])
        let decisions = await PlainConsentFlow(service: service, strings: .english, language: .english,
                                               serverName: "http://x", io: io).run(user: nil, code: nil)
        #expect(decisions == 1)
        #expect(service.calls.withLock { $0 } == ["login carol", "otp 000000", "otp 123456", "lookup BCDFGHJK",
                                                  "approve BCDF-GHJK admin", "approve BCDF-GHJK admin otp 111111",
                                                  "approve BCDF-GHJK admin", "approve BCDF-GHJK admin otp 123456", "logout cs_1"])
        let out = io.output.joined(separator: "\n")
        #expect(out.contains("Enter the code from your authenticator"))
        #expect(out.contains("✗ wrong code"))
        #expect(out.contains("! admin needs a fresh code from your authenticator"))
        #expect(io.secretPrompts == 5)   // the password and four codes: none is echoed
    }

    @Test func plainModeEscapesHostileText() async {
        let service = FakeConsentService()
        service.request.clientName = "x\u{1B}]52;c;AAAA\u{07}\u{202E}y"
        let io = ScriptedLines(["alice", "pw", "bcdfghjk", "deny", ""])
        await PlainConsentFlow(service: service, strings: .english, language: .english, serverName: "http://x", io: io)
            .run(user: nil, code: nil)
        let out = io.output.joined(separator: "\n")
        #expect(out.contains("x<U+001B>]52;c;AAAA<U+0007><U+202E>y"))
        #expect(!out.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x202E })
    }
}

final class ScriptedLines: LineIO {
    var input: [String]
    var output: [String] = []
    var secretPrompts = 0
    init(_ input: [String]) { self.input = input }
    func ask(_ prompt: String) -> String? {
        output.append(prompt)
        return input.isEmpty ? nil : input.removeFirst()
    }
    func askSecret(_ prompt: String) -> String? {
        secretPrompts += 1
        return ask(prompt)
    }
    func say(_ line: String) { output.append(line) }
}
