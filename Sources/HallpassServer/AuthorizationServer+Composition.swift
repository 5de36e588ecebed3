import Foundation
import HallpassCore
import HallpassStore
import Logging
import ServiceLifecycle

/// Composition (ARCHITECTURE.md §2): each endpoint, grant handler and service is built here with
/// only the narrow storage protocols and services it uses. Only `buildRouter`,
/// `buildApplication` and the executable call these; nothing they build holds the server.
extension AuthorizationServer {
    var clientAuthenticator: ClientAuthenticator {
        ClientAuthenticator(clients: store, cache: clients, verifiedSecrets: verifiedSecrets, clock: clock, checks: metrics.secretChecks)
    }

    /// DPoP proofs at the token endpoint and userinfo, remembered in the shared store.
    var dpopGate: DPoPGate {
        DPoPGate(replays: store, keys: keys, clock: clock, requireNonces: configuration.dpopNonces, audit: audit)
    }

    var tokenMinter: TokenMinter {
        TokenMinter(keys: keys, random: random, policy: policy, issuer: issuer)
    }

    /// The token endpoint's grants: a new grant is its handler here, one line.
    var tokenGrants: TokenGrantRegistry {
        TokenGrantRegistry([
            DeviceCodeTokenHandler(grants: store, users: store, minter: tokenMinter, polls: polls, unknownCodes: unknownCodes,
                                   metrics: metrics, audit: audit),
            RefreshTokenHandler(tokens: store, users: store, minter: tokenMinter, metrics: metrics, audit: audit),
            AuthorizationCodeTokenHandler(grants: store, users: store, minter: tokenMinter, metrics: metrics, audit: audit),
            DeviceCodeTokenHandler(grants: store, users: store, minter: tokenMinter, polls: polls, unknownCodes: unknownCodes,
                                   metrics: metrics, audit: audit, backchannel: true),
        ])
    }

    var consentDesk: ConsentDesk {
        var desk = ConsentDesk(users: store, sessions: store, grants: store, clients: store, scopes: store, failures: failures,
                    events: events, clock: clock, random: random, sessionLifetime: policy.consentSessionLifetime, metrics: metrics,
                    held: store, secondFactor: secondFactorDesk)
        desk.sites = configuration.sites
        desk.audit = audit
        desk.backchannel = backchannelNotifier
        return desk
    }

    /// CIBA ping and push deliveries, after a decision (the desk) or an expiry (the sweeper).
    var backchannelNotifier: BackchannelNotifier {
        BackchannelNotifier(clients: store, grants: store, users: store, minter: tokenMinter,
                            transport: backchannelTransport, clock: clock, audit: audit)
    }

    /// The SSH front's logins, under the consent API's rules and budgets.
    public var sshLogins: SSHLoginDesk {
        SSHLoginDesk(desk: consentDesk, keys: store, codeForKeys: configuration.totpForSSHKeys)
    }

    /// Authenticators (ARCHITECTURE.md §4.8).
    public var secondFactorDesk: SecondFactorDesk {
        SecondFactorDesk(authenticators: store, vault: totpVault, clock: clock, random: random, issuerName: Self.authenticatorIssuer)
    }

    /// How authenticator apps list this server's codes: "Hallpass" (and the user name). Kept short
    /// so the otpauth URI's QR code stays small enough (version 5) to sit beside its words on an
    /// 80×24 terminal.
    public static let authenticatorIssuer = "Hallpass"

    var deviceAuthorizationEndpoint: DeviceAuthorizationEndpoint {
        DeviceAuthorizationEndpoint(authenticator: clientAuthenticator, grants: store, urls: urls, clock: clock, random: random,
                                    issued: metrics.deviceAuthorizations, deviceNetworks: configuration.deviceNetworks, audit: audit)
    }

    /// CIBA's backchannel authentication endpoint (ARCHITECTURE.md §4.9).
    var backchannelAuthenticationEndpoint: BackchannelAuthenticationEndpoint {
        BackchannelAuthenticationEndpoint(authenticator: clientAuthenticator, grants: store, users: store, failures: failures,
                                          events: events, clock: clock,
                                          random: random, urls: urls, audit: audit)
    }

    var authorizationEndpoint: AuthorizationEndpoint {
        AuthorizationEndpoint(clients: store, grants: store, scopes: store, urls: urls, clock: clock, random: random,
                              sshConsentURI: configuration.sshConsentURI, metrics: metrics)
    }

    var tokenManagementEndpoints: TokenManagementEndpoints {
        TokenManagementEndpoints(authenticator: clientAuthenticator, tokens: store, users: store, keys: keys,
                                 verifiedTokens: verifiedTokens, dpop: dpopGate, userinfoURI: urls.endpoint("/oauth/userinfo"),
                                 issuer: issuer, clock: clock, audit: audit)
    }

    func discoveryEndpoints(grantTypes: [String]) -> DiscoveryEndpoints {
        DiscoveryEndpoints(urls: urls, keys: keys, scopes: store, clients: store, metrics: metrics,
                           sshConsentURI: configuration.sshConsentURI, grantTypes: grantTypes)
    }

    /// The expiry sweeper (every 30 s; expired CIBA ping and push requests every 5 s), a
    /// Service for `serve`'s ServiceGroup.
    public func expirySweeper(logger: Logger) -> some Service {
        ExpirySweeper(grants: store, clock: clock, logger: logger, backchannel: backchannelNotifier)
    }

    /// The push channel's sockets (devices and approvers' screens).
    public func pushHub(limits: PushLimits = PushLimits()) -> DevicePushHub {
        DevicePushHub(grants: store, events: events, desk: consentDesk, unknownCodes: unknownCodes, clock: clock,
                      basePath: urls.basePath, trustedProxies: configuration.trustedProxies,
                      delivered: metrics.pushDelivered, limits: limits)
    }

}
