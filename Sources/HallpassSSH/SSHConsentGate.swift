import HallpassCore

/// What the SSH front needs from the authorization server, and no more: the consent API's
/// logins (under the same budgets, so a person in SSH is held to exactly the same rules), the
/// session it hands to the consent screen, and the end of that session. The server implements
/// it where the application is composed (`hallpass serve`), so this module never imports the
/// server (ARCHITECTURE.md §2).
public protocol SSHConsentGate: Sendable {
    /// Password authentication; throws when refused (a wrong password, a budget used up).
    func passwordLogin(name: String, password: String, source: String) async throws -> SSHConsentSession
    /// Public-key authentication, asked only once the client's signature has been verified; nil
    /// when the key is not registered to `name` or the user is disabled.
    func keyLogin(name: String, key: SSHPublicKeyLine, source: String) async throws -> SSHConsentSession?
    /// Ends a handed-over session when its SSH session ends.
    func endSession(token: String) async
}

/// A consent session handed to the consent screen an SSH connection runs.
public struct SSHConsentSession: Sendable, Equatable {
    public let token: String
    public let userName: String

    public init(token: String, userName: String) {
        self.token = token
        self.userName = userName
    }
}
