import Foundation
import HallpassCore
import NIOConcurrencyHelpers
import NIOCore
import NIOSSH

/// One connection's user authentication (RFC 4252): public keys registered with
/// `hallpass users add-key`, then the user's Hallpass password; nothing else is offered.
/// swift-nio-ssh verifies a public-key signature before this delegate is asked, and answers
/// unsigned "would this key do?" queries itself, so an identity is bound only from a signature
/// that actually authenticated. Passwords go through the consent API's login and its limits.
final class SSHAuthenticator: NIOSSHServerUserAuthenticationDelegate, Sendable {
    let gate: any SSHConsentGate
    let source: String
    let maxAttempts: Int
    /// The session to hand to the TUI, once a request succeeded.
    let identity = NIOLockedValueBox<HandedOverSession?>(nil)
    private let attempts = NIOLockedValueBox(0)

    init(gate: any SSHConsentGate, source: String, maxAttempts: Int) {
        self.gate = gate
        self.source = source
        self.maxAttempts = maxAttempts
    }

    var supportedAuthenticationMethods: NIOSSHAvailableUserAuthenticationMethods { [.publicKey, .password] }

    func requestReceived(request: NIOSSHUserAuthenticationRequest,
                         responsePromise: EventLoopPromise<NIOSSHUserAuthenticationOutcome>) {
        let attempt = attempts.withLockedValue { $0 += 1; return $0 }
        guard attempt <= maxAttempts, identity.withLockedValue({ $0 == nil }) else {
            return responsePromise.succeed(.failure)
        }
        let name = request.username
        let gate = gate, source = source, identity = identity
        switch request.request {
        case .publicKey(let offered):
            let line = String(openSSHPublicKey: offered.publicKey).split(separator: " ")
            guard line.count >= 2 else { return responsePromise.succeed(.failure) }
            let key = SSHPublicKeyLine(type: String(line[0]), blob: String(line[1]))
            responsePromise.completeWithTask {
                guard let session = try? await gate.keyLogin(name: name, key: key, source: source) else { return .failure }
                identity.withLockedValue { $0 = session }
                return .success
            }
        case .password(let password):
            responsePromise.completeWithTask {
                guard let session = try? await gate.passwordLogin(name: name, password: password.password, source: source)
                else { return .failure }
                identity.withLockedValue { $0 = session }
                return .success
            }
        default:
            responsePromise.succeed(.failure)
        }
    }
}
