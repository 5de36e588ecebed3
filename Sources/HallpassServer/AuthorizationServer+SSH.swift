import Foundation
import HallpassCore
import HallpassStore

/// What the SSH front needs from the authorization server: the same logins, limits and consent
/// sessions as the consent API, so a person in SSH is held to exactly the same rules.
extension AuthorizationServer {
    /// A consent session handed to the TUI an SSH connection runs.
    public struct HandedOverSession: Sendable {
        public let token: String
        public let userName: String
    }

    /// Password authentication: the consent API's login, with its per-name and per-address limits.
    public func sshPasswordLogin(name: String, password: String, source: String) async throws -> HandedOverSession {
        let (token, _, user) = try await ConsentDesk(server: self).login(name: name, password: password, source: source)
        return HandedOverSession(token: token, userName: user.name)
    }

    /// Public-key authentication, called only once the client's signature has been verified:
    /// the key must be registered to the user named in the request, who must be enabled.
    /// Nil when it is not; that failure counts against the source address's login budget, and an
    /// address over that budget gets nil for every key. A user name locked by wrong passwords
    /// does not lock out its keys (a key cannot be guessed; otherwise anyone could lock alice out).
    public func sshKeyLogin(name: String, key: SSHPublicKeyLine, source: String) async throws -> HandedOverSession? {
        let now = clock.now
        let address = [FailureKey(.loginByAddress, source)]
        if try await failures.retryAfter(address, at: now) != nil { return nil }
        guard let record = try await store.sshKey(blob: key.blob), record.type == key.type,
              let owner = try await store.user(id: record.userID), owner.name == name, !owner.disabled
        else {
            try await failures.recordFailure(address, at: now)
            metrics.failedLogins.increment()
            return nil
        }
        let (token, _, user) = try await ConsentDesk(server: self).openSession(for: owner, source: source)
        return HandedOverSession(token: token, userName: user.name)
    }

    /// Ends a handed-over session when its SSH session ends.
    public func endConsentSession(token: String) async {
        try? await store.deleteSession(tokenHash: SecretToken.hash(token))
    }
}
