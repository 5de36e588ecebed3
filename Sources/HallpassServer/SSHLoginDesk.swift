import Foundation
import HallpassCore
import HallpassStore

/// What the SSH front needs from the authorization server: the same logins, limits and consent
/// sessions as the consent API, so a person in SSH is held to exactly the same rules. The
/// executable wraps it in the SSH target's own `SSHConsentGate` protocol (`ServerSSHGate`).
public struct SSHLoginDesk: Sendable {
    let desk: ConsentDesk
    let keys: any SSHKeyStore
    /// `totp_for_ssh_keys`: a key login of a user with an authenticator also waits for a code.
    var codeForKeys = false

    /// Password authentication: the consent API's login, under the same login budgets.
    public func passwordLogin(name: String, password: String, source: String) async throws -> HandedOverSession {
        let (token, _, user) = try await desk.login(name: name, password: password, source: source, front: ConsentFront.ssh)
        return HandedOverSession(token: token, userName: user.name)
    }

    /// Public-key authentication, called only once the client's signature has been verified:
    /// the key must be registered to the user named in the request, who must be enabled. Nil
    /// when it is not. A key cannot be guessed, so key logins neither consult nor charge the
    /// password budgets: wrong passwords for alice, from anywhere, never stop her key. A key
    /// login marks its (name, address) pair as known, which exempts it from the throttles.
    public func keyLogin(name: String, key: SSHPublicKeyLine, source: String) async throws -> HandedOverSession? {
        guard let record = try await keys.sshKey(blob: key.blob), record.type == key.type,
              let owner = try await desk.users.user(id: record.userID), owner.name == name, !owner.disabled
        else {
            desk.metrics.failedLogins.increment()
            desk.audit.record("login", outcome: "failed", actor: name, address: source, detail: "ssh key \(key.type)")
            return nil
        }
        try await LoginBudgets(name: owner.name, address: source).keyLoginSucceeded(on: desk.failures, at: desk.clock.now)
        desk.audit.record("login", outcome: "ok", actor: owner.name, address: source, detail: "ssh key \(key.type)")
        // RFC 8176 `swk`: proof of possession of a software-held key. With `totp_for_ssh_keys`
        // the session waits for a code, which the consent screen asks for first.
        let pending = codeForKeys ? try await desk.secondFactor.isEnrolled(owner) : false
        let (token, _, user) = try await desk.openSession(for: owner, source: source, front: ConsentFront.ssh,
                                                          methods: [AuthenticationContext.sshKey], pendingCode: pending)
        return HandedOverSession(token: token, userName: user.name)
    }

    /// Ends a handed-over session when its SSH session ends.
    public func endSession(token: String) async {
        try? await desk.sessions.deleteSession(tokenHash: SecretToken.hash(token))
    }
}
