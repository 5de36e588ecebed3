import HallpassCore
import HallpassServer
import HallpassSSH

/// The SSH front's `SSHConsentGate`, answered by the authorization server: composed here, in
/// the executable, so that `HallpassSSH` does not depend on `HallpassServer` (ARCHITECTURE.md §2).
struct ServerSSHGate: SSHConsentGate {
    let server: AuthorizationServer

    func passwordLogin(name: String, password: String, source: String) async throws -> HandedOverSession {
        try await server.sshPasswordLogin(name: name, password: password, source: source)
    }

    func keyLogin(name: String, key: SSHPublicKeyLine, source: String) async throws -> HandedOverSession? {
        try await server.sshKeyLogin(name: name, key: key, source: source)
    }

    func endSession(token: String) async {
        await server.endConsentSession(token: token)
    }
}
