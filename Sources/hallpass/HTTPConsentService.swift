import Foundation
import HallpassCore
import HallpassClient
import HallpassTUI

/// The TUI's `ConsentService` over the HTTP consent API: maps the server's answers to the
/// failures the screens understand.
struct HTTPConsentService: ConsentService {
    let api: ConsentAPIClient

    func login(user: String, password: String) async throws(ConsentFailure) -> ConsentLogin {
        let session = try await call(login: true) { try await api.login(user: user, password: password) }
        return ConsentLogin(session: session.session, user: session.user)
    }

    func lookup(code: String, session: String) async throws(ConsentFailure) -> PendingRequest {
        let details = try await call { try await api.lookup(code: code, session: session) }
        return PendingRequest(
            userCode: details.user_code, clientID: details.client_id, clientName: details.client_name,
            scopes: details.scopes.map { .init(name: $0.name, description: $0.description) },
            deviceIP: details.device_ip, userAgent: details.user_agent,
            requestedSecondsAgo: details.requested_seconds_ago, expiresIn: details.expires_in)
    }

    func approve(code: String, scopes: [String], session: String) async throws(ConsentFailure) -> ConsentDecision {
        let decision = try await call { try await api.approve(code: code, scope: scopes.joined(separator: " "), session: session) }
        return ConsentDecision(approved: decision.status == "approved",
                               scopes: (decision.scope ?? "").split(separator: " ").map(String.init))
    }

    func deny(code: String, session: String) async throws(ConsentFailure) -> ConsentDecision {
        let decision = try await call { try await api.deny(code: code, session: session) }
        return ConsentDecision(approved: decision.status == "approved", scopes: [])
    }

    func logout(session: String) async {
        await api.logout(session: session)
    }

    func watch(code: String, session: String) async -> GrantOutcome? {
        await api.watch(code: code, session: session).flatMap(GrantOutcome.init(rawValue:))
    }

    private func call<T>(login: Bool = false, _ body: () async throws -> T) async throws(ConsentFailure) -> T {
        do {
            return try await body()
        } catch let failure as ConsentAPIClient.Failure {
            throw Self.map(failure, login: login)
        } catch {
            throw .unreachable
        }
    }

    /// By the error code the consent API answers (ARCHITECTURE.md §4.4), never by its status;
    /// only a gateway's 502–504, which carries no code of ours, is judged by the status.
    static func map(_ failure: ConsentAPIClient.Failure, login: Bool) -> ConsentFailure {
        switch failure.code {
        case "too_many_attempts":
            return login ? .loginLocked(retryAfter: failure.retryAfter ?? 60) : .tooManyCodes(retryAfter: failure.retryAfter ?? 60)
        case "access_denied" where login: return .wrongCredentials
        case "login_required": return .loginRequired
        case "already_decided": return .alreadyDecided
        case "invalid_grant": return .invalidCode(guessesLeft: failure.guessesLeft)
        case _ where failure.code.hasPrefix("http_") && (502...504).contains(failure.status): return .unreachable
        default: return .refused(failure.message)
        }
    }
}
