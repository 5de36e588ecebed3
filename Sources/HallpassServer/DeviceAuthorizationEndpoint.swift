import Foundation
import HallpassCore
import HallpassStore
import Hummingbird
import Prometheus

/// `POST /oauth/device_authorization` (RFC 8628 §3.1–3.2).
struct DeviceAuthorizationEndpoint {
    let authenticator: ClientAuthenticator
    let grants: any GrantStore
    let urls: IssuerURLs
    let clock: any WallClock
    let random: any RandomSource
    /// `hallpass_device_authorizations_total`.
    let issued: Counter
    /// The server's `device_networks`, for clients without their own.
    var deviceNetworks: AddressRanges?
    var audit: AuditTrail = .disabled

    func addRoutes(to group: RouterGroup<HallpassRequestContext>) {
        group.post("oauth/device_authorization") { request, context in
            try await self.authorize(request, context: context)
        }
    }

    func authorize(_ request: Request, context: HallpassRequestContext) async throws -> Response {
        var request = request
        let form = try await request.form(context: context)
        let client = try await authenticator.authenticate(request, form: form)
        guard client.grantTypes.contains(.deviceCode) else {
            throw OAuthError(.unauthorizedClient, "this client may not use the device authorization grant")
        }
        // BCP 247 trusted networks: a device of this client asks only from its networks.
        if let networks = client.deviceNetworks ?? deviceNetworks, !networks.contains(context.clientIP) {
            audit.record("device_authorization", outcome: "refused_network", address: context.clientIP, client: client.id)
            throw OAuthError(.accessDenied, "device authorization for this client is allowed only from its networks; "
                             + "this request came from \(context.clientIP)")
        }
        let requested = try form["scope"].map { (text: String) throws(OAuthError) in try ScopeSet(parsing: text) }
        let scopes = try ScopeSet.resolve(requested: requested, ceiling: client.deviceGrantCeiling)
        guard !scopes.isEmpty else { throw OAuthError(.invalidScope, "no scope to request") }

        // BCP 247 authenticate-then-initiate (CIBA §7.1's parameter, here on RFC 8628 §3.1): the
        // device names who will approve. Any name is taken (nothing says whether it exists).
        let loginHint = form["login_hint"]
        if let loginHint {
            guard !loginHint.isEmpty, loginHint.utf8.count <= 255, TerminalText.sanitize(loginHint) == loginHint else {
                throw OAuthError(.invalidRequest, "login_hint must be a user name of at most 255 bytes without control characters")
            }
        }
        let now = clock.now
        let deviceCode = SecretToken.generate(using: random)
        let deviceCodeHash = SecretToken.hash(deviceCode)
        let userAgent = String((request.headers[.userAgent] ?? "").prefix(200))
        for _ in 0..<8 {
            let userCode = UserCode.generate(using: random)
            var grant = DeviceGrant(
                deviceCodeHash: deviceCodeHash, userCode: userCode, clientID: client.id,
                requestedScopes: scopes, createdAt: now, lifetime: client.codeLifetime,
                interval: client.interval, deviceIP: context.clientIP, userAgent: userAgent)
            grant.loginHint = loginHint
            if case .inserted = try await grants.insertGrant(grant) {
                issued.increment()
                return try response(deviceCode: deviceCode, userCode: userCode, client: client)
            }
        }
        throw OAuthError(.temporarilyUnavailable, "could not allocate a user code; try again")
    }

    private func response(deviceCode: String, userCode: UserCode, client: OAuthClient) throws -> Response {
        let verification = urls.endpoint("/device")
        return try JSONResponse.make(DeviceAuthorizationResponse(
            deviceCode: deviceCode, userCode: userCode.display, verificationURI: verification,
            verificationURIComplete: "\(verification)?user_code=\(userCode.display)",
            expiresIn: Int(client.codeLifetime), interval: client.interval, pushURI: urls.pushURI))
    }
}

/// RFC 8628 §3.2, with `push_uri` (Hallpass's push channel, ARCHITECTURE.md §4.3).
struct DeviceAuthorizationResponse: Codable, Equatable {
    var deviceCode: String
    var userCode: String
    var verificationURI: String
    var verificationURIComplete: String
    var expiresIn: Int
    var interval: Int
    var pushURI: String

    enum CodingKeys: String, CodingKey {
        case deviceCode = "device_code", userCode = "user_code", verificationURI = "verification_uri"
        case verificationURIComplete = "verification_uri_complete", expiresIn = "expires_in", interval
        case pushURI = "push_uri"
    }
}
