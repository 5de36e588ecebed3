import HallpassCore
import HallpassServer
import HallpassSSH

/// The SSH front's `SSHConsentGate`, answered by the authorization server: composed here, in
/// the executable, so that `HallpassSSH` does not depend on `HallpassServer` (ARCHITECTURE.md §2).
struct ServerSSHGate: SSHConsentGate {
    let server: AuthorizationServer

    func passwordLogin(name: String, password: String, source: String) async throws -> SSHConsentSession {
        let session = try await server.sshPasswordLogin(name: name, password: password, source: source)
        return SSHConsentSession(token: session.token, userName: session.userName)
    }

    func keyLogin(name: String, key: SSHPublicKeyLine, source: String) async throws -> SSHConsentSession? {
        try await server.sshKeyLogin(name: name, key: key, source: source)
            .map { SSHConsentSession(token: $0.token, userName: $0.userName) }
    }

    func endSession(token: String) async {
        await server.endConsentSession(token: token)
    }
}
