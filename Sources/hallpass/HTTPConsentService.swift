import Foundation
import HallpassCore
import HallpassClient
import HallpassTUI

/// The TUI's `ConsentService` over the HTTP consent API: maps the server's answers to the
/// failures the screens understand.
struct HTTPConsentService: ConsentService {
    let api: ConsentAPIClient
    /// `tui` or `kiosk` (`ConsentFront`).
    var front = ConsentFront.tui

    func login(user: String, password: String) async throws(ConsentFailure) -> ConsentLogin {
        let answer = try await call(login: true) { try await api.login(user: user, password: password, front: front) }
        return ConsentLogin(session: answer.session, user: answer.user, otpRequired: answer.otpRequired)
    }

    func verifyCode(_ code: String, session: String) async throws(ConsentFailure) {
        _ = try await call(login: true) { try await api.verifyCode(code, session: session) }
    }

    /// The QR code is made here (libqrencode lives in HallpassClient), as rows of modules with
    /// a quiet zone of two.
    func enrollAuthenticator(session: String) async throws(ConsentFailure) -> AuthenticatorEnrolment {
        let enrolment = try await call { try await api.enrollTOTP(session: session) }
        var rows: [[Bool]] = []
        if let qr = QRCode(encoding: enrolment.uri) {
            rows = (-2..<(qr.size + 2)).map { y in (-2..<(qr.size + 2)).map { x in qr.isDark(x: x, y: y) } }
        }
        return AuthenticatorEnrolment(secret: enrolment.secret, uri: enrolment.uri, qr: rows)
    }

    func inbox(session: String) async throws(ConsentFailure) -> [PendingRequest] {
        try await call { try await api.inbox(session: session).requests }
    }

    func confirmAuthenticator(code: String, session: String) async throws(ConsentFailure) -> [String] {
        try await call { try await api.confirmTOTP(code: code, session: session).recoveryCodes }
    }

    func lookup(code: String, session: String) async throws(ConsentFailure) -> PendingRequest {
        try await call { try await api.lookup(code: code, session: session) }
    }

    func approve(code: String, scopes: [String], otp: String?, session: String) async throws(ConsentFailure) -> ConsentDecision {
        let decision = try await call { try await api.approve(code: code, scope: scopes.joined(separator: " "), otp: otp, session: session) }
        return ConsentDecision(approved: decision.status == .approved,
                               scopes: (decision.scope ?? "").split(separator: " ").map(String.init))
    }

    func deny(code: String, session: String) async throws(ConsentFailure) -> ConsentDecision {
        let decision = try await call { try await api.deny(code: code, session: session) }
        return ConsentDecision(approved: decision.status == .approved, scopes: [])
    }

    func logout(session: String) async {
        await api.logout(session: session)
    }

    func watchInbox(session: String, onEvent: @escaping @Sendable (InboxWatchEvent) -> Void) async -> Bool {
        await api.watchInbox(session: session, onSubscribed: { onEvent(.live) }, onChange: { onEvent(.changed) })
        return true
    }

    func watch(code: String, session: String) async -> GrantOutcome? {
        await api.watch(code: code, session: session)
    }

    func devices(session: String) async throws(ConsentFailure) -> [ConsentAPI.DeviceList.Device] {
        try await call { try await api.devices(session: session).devices }
    }

    func revokeDevice(id: String, session: String) async throws(ConsentFailure) {
        try await call { try await api.revokeDevice(id: id, session: session) }
    }

    private func call<T>(login: Bool = false, _ body: () async throws -> T) async throws(ConsentFailure) -> T {
        do {
            return try await body()
        } catch let failure as ConsentAPI.Failure {
            throw Self.map(failure, login: login)
        } catch {
            throw .unreachable
        }
    }

    /// By the error code the consent API answers (ARCHITECTURE.md §4.4), never by its status.
    /// An answer that is not the API's at all (a gateway's 502, a page) means the server is not
    /// reachable through whatever stands in front of it.
    static func map(_ failure: ConsentAPI.Failure, login: Bool) -> ConsentFailure {
        switch failure.code {
        case .tooManyAttempts:
            return login ? .loginLocked(retryAfter: failure.retryAfter ?? 60) : .tooManyCodes(retryAfter: failure.retryAfter ?? 60)
        case .accessDenied where login: return .wrongCredentials
        case .loginRequired: return .loginRequired
        case .alreadyDecided: return .alreadyDecided
        case .invalidGrant: return .invalidCode(guessesLeft: failure.guessesLeft)
        case .otpRequired: return .codeRequired(failure.message)
        case .invalidOTP: return .wrongCode(failure.message)
        default: return .refused(failure.message)
        }
    }
}
