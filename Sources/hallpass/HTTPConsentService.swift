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
        return ConsentLogin(session: answer.session, user: answer.user)
    }

    func lookup(code: String, session: String) async throws(ConsentFailure) -> PendingRequest {
        try await call { try await api.lookup(code: code, session: session) }
    }

    func approve(code: String, scopes: [String], session: String) async throws(ConsentFailure) -> ConsentDecision {
        let decision = try await call { try await api.approve(code: code, scope: scopes.joined(separator: " "), session: session) }
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
        default: return .refused(failure.message)
        }
    }
}
