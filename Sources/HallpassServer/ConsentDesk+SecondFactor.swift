import Foundation
import HallpassCore
import HallpassStore

/// The second factor at the consent API (ARCHITECTURE.md §4.8): the code that finishes a login,
/// the fresh code a step-up scope or a `--require-totp` client asks for, and enrolment by the
/// logged-in user. Codes are charged to the login budgets exactly like passwords.
extension ConsentDesk {
    /// What approving `scopes` for `client` needs of `session` now, if anything.
    func demand(approving scopes: ScopeSet, client: OAuthClient?, session: Session) async throws -> SecondFactorDemand? {
        let stepUp = try await self.scopes.stepUpScopes()
        return SecondFactorDemand.demand(approving: scopes, stepUpScopes: stepUp, clientRequiresTOTP: client?.requiresTOTP ?? false,
                                         sessionOTPAt: session.record.otpAt, now: clock.now)
    }

    /// Checks a code from the session user's authenticator (or a recovery code) under the login
    /// budgets of (user, session address): charged before it is checked, forgiven when right. A
    /// right code finishes a waiting login and records `otp` and its time in the session.
    func verifyCode(_ text: String, session: Session) async throws -> Session {
        let code: OneTimeCode
        do {
            code = try OneTimeCode(parsing: text)
        } catch {
            throw ConsentAPI.Failure(.invalidOTP, error.description)
        }
        let now = clock.now
        let name = session.user.name, address = session.record.source
        let budgets = LoginBudgets(name: name, address: address)
        if let refusal = try await budgets.admit(on: failures, at: now) {
            metrics.refusedLogins.increment()
            audit.record("second_factor", outcome: "refused", actor: name, address: address, detail: refusal.message)
            throw ConsentAPI.Failure(.tooManyAttempts, refusal.message, retryAfter: refusal.retryAfter)
        }
        switch try await secondFactor.verify(user: session.user, code: code) {
        case .accepted(let recoveryCode):
            try await budgets.succeeded(on: failures, admittedAt: now)
            var record = session.record
            record.methods = AuthenticationContext.adding(AuthenticationContext.otp, to: record.methods)
            record.otpAt = now
            // A login that waited for this code lives a whole session from now.
            if record.secondFactorPending { record.expiresAt = now.addingTimeInterval(sessionLifetime) }
            record.secondFactorPending = false
            guard try await sessions.recordSecondFactor(tokenHash: record.tokenHash, methods: record.methods, at: now,
                                                        expiresAt: record.expiresAt)
            else { throw ConsentAPI.Failure(.loginRequired, "log in first (no or expired session)") }
            audit.record("second_factor", outcome: "ok", actor: name, address: address, detail: recoveryCode ? "recovery code" : "totp")
            return Session(record: record, user: session.user)
        case .replayed:
            metrics.failedLogins.increment()
            audit.record("second_factor", outcome: "replayed", actor: name, address: address)
            throw ConsentAPI.Failure(.invalidOTP, "that code was used already; wait for the next one")
        case .wrong:
            metrics.failedLogins.increment()
            audit.record("second_factor", outcome: "failed", actor: name, address: address)
            throw ConsentAPI.Failure(.invalidOTP, "wrong code")
        }
    }

    /// A new authenticator for the session user (replacing one not yet confirmed). A user with a
    /// confirmed one must have it disabled by an administrator first.
    func enroll(session: Session) async throws -> ConsentAPI.TOTPEnrolment {
        do {
            let enrolment = try await secondFactor.enroll(user: session.user)
            audit.record("totp_enrolment", outcome: "started", actor: session.user.name, address: session.record.source)
            return ConsentAPI.TOTPEnrolment(secret: enrolment.secret, uri: enrolment.uri)
        } catch let failure as SecondFactorDesk.Failure {
            throw ConsentAPI.Failure(.invalidRequest, failure.description)
        }
    }

    /// Confirms the session user's new authenticator with its first code: the recovery codes,
    /// once. The session counts as having given a code.
    func confirmEnrolment(code: String, session: Session) async throws -> ConsentAPI.RecoveryCodes {
        do {
            let codes = try await secondFactor.confirm(user: session.user, code: code)
            let now = clock.now
            let methods = AuthenticationContext.adding(AuthenticationContext.otp, to: session.record.methods)
            _ = try await sessions.recordSecondFactor(tokenHash: session.record.tokenHash, methods: methods, at: now,
                                                      expiresAt: session.record.expiresAt)
            audit.record("totp_enrolment", outcome: "confirmed", actor: session.user.name, address: session.record.source)
            return ConsentAPI.RecoveryCodes(recoveryCodes: codes)
        } catch let failure as SecondFactorDesk.Failure {
            throw ConsentAPI.Failure(failure == .wrongCode ? .invalidOTP : .invalidRequest, failure.description)
        }
    }
}
