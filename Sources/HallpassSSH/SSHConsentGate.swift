import HallpassCore

/// What the SSH front needs from the authorization server, and no more: the consent API's
/// logins (under the same budgets, so a person in SSH is held to exactly the same rules), the
/// session it hands to the consent screen, and the end of that session. The server implements
/// it where the application is composed (`hallpass serve`), so this module never imports the
/// server (ARCHITECTURE.md §2).
public protocol SSHConsentGate: Sendable {
    /// Password authentication; throws when refused (a wrong password, a budget used up).
    func passwordLogin(name: String, password: String, source: String) async throws -> HandedOverSession
    /// Public-key authentication, asked only once the client's signature has been verified; nil
    /// when the key is not registered to `name` or the user is disabled.
    func keyLogin(name: String, key: SSHPublicKeyLine, source: String) async throws -> HandedOverSession?
    /// Ends a handed-over session when its SSH session ends.
    func endSession(token: String) async
}
