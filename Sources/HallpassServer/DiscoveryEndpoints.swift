import Foundation
import HallpassCore
import HallpassStore
import Hummingbird

/// RFC 8414 metadata, the OpenID discovery document, the JWKS, the verification page, health
/// and metrics.
struct DiscoveryEndpoints {
    let urls: IssuerURLs
    let keys: KeyRing
    let scopes: any ScopeStore
    /// The readiness probe's point read.
    let clients: any ClientStore
    let metrics: ServerMetrics
    /// An extension field (RFC 8414 §2 allows more): the terminal consent front over SSH.
    let sshConsentURI: String?
    /// `grant_types_supported` (RFC 8414 §2): the token endpoint's registry, read once.
    let grantTypes: [String]

    /// Routes under the issuer's path.
    func addRoutes(to group: RouterGroup<HallpassRequestContext>) {
        group.get(".well-known/oauth-authorization-server") { _, _ in try await self.metadata(openID: false) }
        group.get(".well-known/openid-configuration") { _, _ in try await self.metadata(openID: true) }
        group.get("oauth/jwks.json") { _, _ in
            var headers: HTTPFields = [.contentType: "application/jwk-set+json", .cacheControl: "public, max-age=60"]
            headers[.accessControlAllowOrigin] = "*"
            return try JSONResponse.make(JWKSet(keys: try await self.keys.jwks()), headers: headers)
        }
        group.get("device") { _, _ in self.verificationPage() }
        group.get("livez") { _, _ in
            try JSONResponse.make(HealthAnswer(status: "ok"), headers: [.cacheControl: "no-store"])
        }
        group.get("readyz") { _, _ in try await self.readiness() }
        group.get("healthz") { _, _ in try await self.readiness() }
        group.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(bytes: self.metrics.exposition())))
        }
    }

    /// RFC 8414 §3.1: for an issuer with a path, the well-known segment goes between host and
    /// path (`/.well-known/oauth-authorization-server/t/acme`). Mounted at the root.
    func addRootRoutes(to router: Router<HallpassRequestContext>) {
        let base = urls.basePath
        guard !base.isEmpty else { return }
        router.get(RouterPath(".well-known/oauth-authorization-server" + base)) { _, _ in try await self.metadata(openID: false) }
        router.get(RouterPath(".well-known/openid-configuration" + base)) { _, _ in try await self.metadata(openID: true) }
    }

    func metadata(openID: Bool) async throws -> Response {
        let algorithms = await keys.idTokenAlgorithms
        let scopes = try await scopes.scopeDescriptions().keys.sorted()
        var body = ServerMetadata(
            issuer: urls.issuer,
            authorizationEndpoint: urls.endpoint(AuthorizationEndpoint.path),
            deviceAuthorizationEndpoint: urls.endpoint("/oauth/device_authorization"),
            devicePushEndpoint: urls.pushURI,
            tokenEndpoint: urls.endpoint("/oauth/token"),
            revocationEndpoint: urls.endpoint("/oauth/revoke"),
            introspectionEndpoint: urls.endpoint("/oauth/introspect"),
            userinfoEndpoint: urls.endpoint("/oauth/userinfo"),
            jwksURI: urls.endpoint("/oauth/jwks.json"),
            grantTypesSupported: grantTypes,
            scopesSupported: scopes,
            consentSSHURI: sshConsentURI)
        if grantTypes.contains(OAuthClient.GrantType.ciba.rawValue) {
            body.backchannelAuthenticationEndpoint = urls.endpoint(BackchannelAuthenticationEndpoint.path)
            body.backchannelTokenDeliveryModesSupported = BackchannelDeliveryMode.allCases.map(\.rawValue)
            body.backchannelUserCodeParameterSupported = false
        }
        if openID { body.addOpenIDFields(idTokenAlgorithms: algorithms) }
        return try JSONResponse.make(body, headers: [.contentType: "application/json", .cacheControl: "public, max-age=60"])
    }

    /// `verification_uri` (RFC 8628 §3.2): Hallpass approves in a terminal, so this page says how.
    func verificationPage() -> Response {
        var text = """
            Hallpass — approve a device from a terminal.

            Run:   hallpass approve --server \(urls.issuer)

            """
        if let ssh = sshConsentURI.flatMap(SSHConsentAddress.init(uri:)) {
            text += "or:    \(ssh.command)\n"
        }
        text += "and enter the code shown on your device.\n"
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Readiness: 200 while the store answers a point read within `readinessDeadline`, else
    /// 503. A database that is down fails fast; one that hangs (a partition: packets dropped, no
    /// reset) must not hang the probe, so the read runs in its own task and is abandoned at the
    /// deadline.
    func readiness() async throws -> Response {
        let clients = self.clients
        let answered = await firstOf(deadline: Self.readinessDeadline) {
            do {
                _ = try await clients.client(id: " health")      // a space is never in a client id
                return true
            } catch {
                return false
            }
        }
        guard answered == true else {
            return try JSONResponse.make(HealthAnswer(status: "unavailable", store: answered == nil ? "timeout" : "unreachable"),
                                         status: .serviceUnavailable, headers: [.cacheControl: "no-store"])
        }
        return try JSONResponse.make(HealthAnswer(status: "ok", store: "ok"), headers: [.cacheControl: "no-store"])
    }

    static let readinessDeadline: Duration = .seconds(2)
}
