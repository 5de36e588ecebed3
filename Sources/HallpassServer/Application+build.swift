import Foundation
import HallpassCore
import HallpassSettings
import HallpassStore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL

/// One builder for `hallpass serve` and the tests (Hummingbird's template pattern): the tests
/// pass an in-memory configuration and port 0. The sweeper is not in it: `serve` lists
/// `server.expirySweeper` in its own ServiceGroup, beside the store's services.
public func buildApplication(
    server: AuthorizationServer, pushLimits: PushLimits = PushLimits(), tls: TLSCertificateStore? = nil,
    logger: Logger = Logger(label: "hallpass")
) async throws -> some ApplicationProtocol {
    try await server.keys.ensureKey(algorithm: server.configuration.signingAlgorithm == "ES256" ? .es256 : .eddsa)
    let router = buildRouter(server: server)
    let configuration = server.configuration
    let address = BindAddress.hostname(configuration.host, port: configuration.port)
    let hub = server.pushHub(limits: pushLimits)
    var app = Application(
        router: router,
        server: try serverBuilder(configuration, hub: hub, metrics: server.metrics, tls: tls),
        configuration: .init(address: address, serverName: "hallpass"),
        logger: logger)
    return app
}

/// All routes, mounted under the issuer's path.
public func buildRouter(server: AuthorizationServer) -> Router<HallpassRequestContext> {
    let router = Router(context: HallpassRequestContext.self)
    router.add(middleware: ClientAddressMiddleware(trusted: server.configuration.trustedProxies))
    // Outside the error middleware, so the access log sees each answer's final status.
    if server.configuration.accessLog { router.add(middleware: AccessLogMiddleware()) }
    router.add(middleware: OAuthErrorMiddleware())
    let base = server.configuration.basePath
    let group = base.isEmpty ? router.group() : router.group(RouterPath(String(base.dropFirst())))
    server.deviceAuthorizationEndpoint.addRoutes(to: group)
    server.backchannelAuthenticationEndpoint.addRoutes(to: group)
    server.authorizationEndpoint.addRoutes(to: group)
    let grants = server.tokenGrants
    TokenEndpoint(grants: grants, authenticator: server.clientAuthenticator, dpop: server.dpopGate,
                  uri: server.urls.endpoint("/oauth/token"), clock: server.clock).addRoutes(to: group)
    server.tokenManagementEndpoints.addRoutes(to: group)
    let discovery = server.discoveryEndpoints(grantTypes: grants.grantTypes)
    discovery.addRoutes(to: group)
    discovery.addRootRoutes(to: router)
    ConsentEndpoints(desk: server.consentDesk).addRoutes(to: group)
    // Plain GETs on the push paths get an explanation.
    for path in ["oauth/device/push", "consent/events"] {
        group.get(RouterPath(path)) { _, _ -> Response in throw DevicePushHub.plainRequestRefusal }
    }
    return router
}

/// HTTP/1.1 with the push WebSocket upgrade (frames capped at 4 KiB, pings every 20 s), over TLS
/// when a certificate is configured: from `tls` (which `serve` reloads on SIGHUP), or loaded here.
func serverBuilder(_ configuration: ServerSettings, hub: DevicePushHub, metrics: ServerMetrics,
                   tls: TLSCertificateStore? = nil) throws -> HTTPServerBuilder {
    let admission = HTTPConnectionAdmission(limits: configuration.http, trusted: configuration.trustedProxies, metrics: metrics)
    let plain = HTTPServerBuilder.http1WithPush(hub: hub, admission: admission)
    guard let certPath = configuration.tlsCertificatePath, let keyPath = configuration.tlsKeyPath else {
        return plain
    }
    do {
        let store = try tls ?? TLSCertificateStore(certificatePath: certPath, keyPath: keyPath)
        return try .tls(plain, tlsConfiguration: store.serverConfiguration)
    } catch let error as TLSLoadError {
        throw ConfigurationError.invalid(error.description)
    }
}
