import Foundation
import HallpassCore
import HallpassStore
import Prometheus
import Synchronization

/// The shared state every endpoint works with: the store, the signing keys, the clock and
/// random source, the policies, and the in-memory bookkeeping that need not be durable
/// (poll times for slow_down, failure counters for rate limits).
public final class AuthorizationServer: Sendable {
    public let store: any HallpassStorage
    public let keys: KeyRing
    public let clock: any WallClock
    public let random: any RandomSource
    public let policy: GrantPolicy
    public let configuration: ServerConfiguration
    public let metrics: ServerMetrics
    /// Decisions fan out through here to push sockets (ARCHITECTURE.md §3c).
    public let events: any GrantEventBus
    /// The consent API's failure budgets (in memory, or shared by replicas on PostgreSQL).
    public let failures: any FailureLedger
    /// The push channel's WebSocket URL (ws:// or wss:// like the issuer's scheme), computed
    /// once: it goes into every device authorization response.
    public let pushURI: String
    /// Clients as authentication sees them, for up to a second (`ClientCache`).
    let clients = ClientCache()
    /// Client secrets verified in the last minute (`VerifiedSecretCache`).
    let verifiedSecrets = VerifiedSecretCache()
    /// Access-token signatures verified in the last minute (`VerifiedTokenCache`).
    let verifiedTokens = VerifiedTokenCache()
    /// Poll times for `slow_down` (`PollLedger`).
    let polls = PollLedger()
    let guards: Mutex<ConsentGuards>

    public init(store: any HallpassStorage, configuration: ServerConfiguration, clock: any WallClock = SystemClock(),
                random: any RandomSource = SystemRandomSource(), policy: GrantPolicy = GrantPolicy(),
                events: any GrantEventBus = InProcessEventBus(), failures: any FailureLedger = InMemoryFailureLedger()) {
        self.store = store
        self.events = events
        self.failures = failures
        let push = configuration.effectiveIssuer + "/oauth/device/push"
        if push.hasPrefix("https://") {
            pushURI = "wss://" + push.dropFirst(8)
        } else if push.hasPrefix("http://") {
            pushURI = "ws://" + push.dropFirst(7)
        } else {
            pushURI = push
        }
        self.configuration = configuration
        self.clock = clock
        self.random = random
        self.policy = policy
        self.keys = KeyRing(store: store, clock: clock, policy: policy)
        self.metrics = ServerMetrics()
        self.guards = Mutex(ConsentGuards())
    }

    public var issuer: String { configuration.effectiveIssuer }

    /// A URL under the issuer (RFC 8414 §3: endpoints live below the issuer's path).
    public func endpoint(_ path: String) -> String { issuer + path }

    /// An unknown device_code at the token endpoint or on a push socket.
    func recordFailedRedemption(address: String) {
        let now = clock.now
        _ = guards.withLock { $0.redemptionByAddress.recordFailure(address, at: now) }
        metrics.failedRedemptions.increment()
    }

    /// Seconds until `address` may try device codes on a push socket again, if it is blocked.
    func failedRedemptionBlock(address: String) -> Int? {
        let now = clock.now
        return guards.withLock { $0.redemptionByAddress.retryAfter(address, at: now) }
    }
}

extension AuthorizationServer: UnknownDeviceCodeCounter {}

/// Composition: the narrow services endpoints and grant handlers are built from. Only
/// `buildRouter` and the endpoints not yet split (ARCHITECTURE.md §2, departure 3) use these.
extension AuthorizationServer {
    var clientAuthenticator: ClientAuthenticator {
        ClientAuthenticator(clients: store, cache: clients, verifiedSecrets: verifiedSecrets, clock: clock, checks: metrics.secretChecks)
    }

    var tokenMinter: TokenMinter {
        TokenMinter(keys: keys, random: random, policy: policy, issuer: issuer)
    }

    /// The token endpoint's grants: a new grant is its handler here, one line.
    var tokenGrants: TokenGrantRegistry {
        TokenGrantRegistry([
            DeviceCodeTokenHandler(grants: store, users: store, minter: tokenMinter, polls: polls, unknownCodes: self,
                                   random: random, metrics: metrics),
            RefreshTokenHandler(tokens: store, users: store, minter: tokenMinter, metrics: metrics),
        ])
    }
}

/// Budgets kept per replica, in memory (the consent API's are in `failures`).
struct ConsentGuards {
    /// Unknown device codes per address (token endpoint and push subscriptions together). Device
    /// codes have 256 bits, so this guards against load, not guessing; it is checked on every
    /// poll, so it stays out of the database.
    var redemptionByAddress = AttemptLimiter(limit: 50, window: 15 * 60)
}

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
