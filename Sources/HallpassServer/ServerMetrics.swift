import Foundation
import Prometheus

/// Prometheus metrics served at `/metrics`.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    let deviceAuthorizations: Counter
    let tokensIssued: Counter
    let pollsPending: Counter
    let slowDowns: Counter
    let decisions: Counter
    let failedGuesses: Counter
    let failedLogins: Counter
    let refusedLogins: Counter
    let failedRedemptions: Counter
    let pushDelivered: Counter
    let signInRequests: Counter
    let codeReplays: Counter
    /// Client-secret checks by how they were decided: `argon2id`, `hmac` (generated secrets),
    /// `cached` (`VerifiedSecretCache`).
    let secretChecks: [String: Counter]

    init() {
        deviceAuthorizations = registry.makeCounter(name: "hallpass_device_authorizations_total", help: "Device authorization requests answered with codes")
        tokensIssued = registry.makeCounter(name: "hallpass_tokens_issued_total", help: "Token responses issued")
        pollsPending = registry.makeCounter(name: "hallpass_polls_pending_total", help: "Token polls answered authorization_pending")
        slowDowns = registry.makeCounter(name: "hallpass_slow_down_total", help: "Token polls answered slow_down")
        decisions = registry.makeCounter(name: "hallpass_consent_decisions_total", help: "Grants approved or denied")
        failedGuesses = registry.makeCounter(name: "hallpass_failed_user_code_guesses_total", help: "User-code lookups that matched no live code")
        failedLogins = registry.makeCounter(name: "hallpass_failed_logins_total", help: "Failed consent logins")
        refusedLogins = registry.makeCounter(name: "hallpass_refused_logins_total", help: "Password logins refused untried by a login budget (locked pair or throttle)")
        failedRedemptions = registry.makeCounter(name: "hallpass_failed_redemptions_total", help: "Unknown device codes at the token endpoint or a push socket")
        pushDelivered = registry.makeCounter(name: "hallpass_push_events_delivered_total", help: "Outcomes delivered on push sockets")
        signInRequests = registry.makeCounter(name: "hallpass_sign_in_requests_total", help: "Authorization requests that became pending browser sign-ins")
        codeReplays = registry.makeCounter(name: "hallpass_authorization_code_replays_total", help: "Authorization codes presented again (their tokens revoked)")
        let registry = self.registry
        secretChecks = Dictionary(uniqueKeysWithValues: ["argon2id", "hmac", "cached"].map { kind in
            (kind, registry.makeCounter(name: "hallpass_client_secret_checks_total", labels: [("kind", kind)],
                                        help: "Client secrets checked, by how: argon2id, hmac (generated secrets) or cached"))
        })
    }

    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
