import Foundation
import HallpassCore
import HallpassStore
import Prometheus
import Synchronization

/// The composition root (ARCHITECTURE.md §2): the store, the signing keys, the clock and random
/// source, the policies, and the in-memory bookkeeping that need not be durable. No endpoint or
/// handler holds this object: `buildRouter` and `buildApplication` hand each one only the narrow
/// protocols and services it uses (`AuthorizationServer+Composition.swift`).
public final class AuthorizationServer: Sendable {
    public let store: any HallpassStorage
    public let keys: KeyRing
    public let clock: any WallClock
    public let random: any RandomSource
    public let policy: GrantPolicy
    public let configuration: ServerSettings
    /// The audit trail (issue 17; `audit_log`).
    public let audit: AuditTrail
    public let metrics: ServerMetrics
    /// Decisions fan out through here to push sockets (ARCHITECTURE.md §3c).
    public let events: any GrantEventBus
    /// The consent API's failure budgets (in memory, or shared by replicas on PostgreSQL).
    public let failures: any FailureLedger
    /// The issuer, its path and the push URL, computed once.
    let urls: IssuerURLs
    /// Clients as authentication sees them, for up to a second (`ClientCache`).
    let clients = ClientCache()
    /// Client secrets verified in the last minute (`VerifiedSecretCache`).
    let verifiedSecrets = VerifiedSecretCache()
    /// Access-token signatures verified in the last minute (`VerifiedTokenCache`).
    let verifiedTokens = VerifiedTokenCache()
    /// Poll times for `slow_down` (`PollLedger`).
    let polls = PollLedger()
    /// Unknown device codes per address (`UnknownDeviceCodeBudget`).
    let unknownCodes: UnknownDeviceCodeBudget
    /// Seals TOTP secrets (`totp_key_file`).
    public let totpVault: TOTPVault
    /// Where CIBA ping and push deliveries go out.
    let backchannelTransport: any BackchannelTransport

    public init(store: any HallpassStorage, configuration: ServerSettings, clock: any WallClock = SystemClock(),
                random: any RandomSource = SystemRandomSource(), policy: GrantPolicy = GrantPolicy(),
                events: any GrantEventBus = InProcessEventBus(), failures: any FailureLedger = InMemoryFailureLedger(),
                audit: AuditTrail = .disabled, totpVault: TOTPVault? = nil,
                backchannelTransport: any BackchannelTransport = HTTPClientBackchannelTransport()) {
        self.backchannelTransport = backchannelTransport
        // `serve` passes the vault of `totp_key_file`; tests get one whose key lives in memory.
        self.totpVault = totpVault ?? TOTPVault(key: .init(data: SystemRandomSource().bytes(32)))
        self.audit = audit
        self.store = store
        self.events = events
        self.failures = failures
        self.configuration = configuration
        self.urls = IssuerURLs(issuer: configuration.effectiveIssuer, basePath: configuration.basePath)
        self.clock = clock
        self.random = random
        self.policy = policy
        self.keys = KeyRing(store: store, clock: clock, policy: policy)
        let metrics = ServerMetrics()
        self.metrics = metrics
        self.unknownCodes = UnknownDeviceCodeBudget(clock: clock, failures: metrics.failedRedemptions)
    }

    public var issuer: String { urls.issuer }
}

