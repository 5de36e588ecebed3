import Foundation
import HallpassCore
import HallpassStore
import Hummingbird

/// `POST /oauth/bc-authorize`: the backchannel authentication endpoint of OpenID Connect CIBA
/// Core 1.0 §7 (ARCHITECTURE.md §4.9). The device names its person (`login_hint`, a user name);
/// the request waits as a grant bound to that name, in the person's inbox, until they decide it
/// on their screen. The device polls the token endpoint with `auth_req_id` (poll mode, §10.1),
/// or is called at its notification endpoint (ping §10.2, push §10.3); `push_uri` names
/// Hallpass's WebSocket, where `{"auth_req_id":"…"}` learns the decision the moment it is made.
///
/// Whether a name exists is never said: a request naming nobody is made and answered the same,
/// and simply expires. Such lookups are charged to the caller's address like wrong user codes.
struct BackchannelAuthenticationEndpoint {
    static let path = "/oauth/bc-authorize"
    /// Pending requests one person may have in the inbox, and one client may have in all: a
    /// client cannot flood a person's screen (or everyone's).
    static let pendingPerUser = 5
    static let pendingPerClient = 50

    let authenticator: ClientAuthenticator
    let grants: any GrantStore
    let users: any UserStore
    let failures: any FailureLedger
    /// Every screen the named user is logged in to hears of the request at once.
    let events: any GrantEventBus
    let clock: any WallClock
    let random: any RandomSource
    let urls: IssuerURLs
    var audit: AuditTrail = .disabled

    func addRoutes(to group: RouterGroup<HallpassRequestContext>) {
        group.post(RouterPath(String(Self.path.dropFirst()))) { request, context in
            try await self.authenticate(request, context: context)
        }
    }

    func authenticate(_ request: Request, context: HallpassRequestContext) async throws -> Response {
        var request = request
        let form = try await request.form(context: context)
        let client = try await authenticator.authenticate(request, form: form)
        guard client.grantTypes.contains(.ciba) else {
            throw OAuthError(.unauthorizedClient, "this client may not use backchannel authentication (register it with --grant ciba)")
        }
        let (scopes, loginHint, bindingMessage, lifetime) = try Self.read(form, client: client)
        // §7.1: ping and push clients say how the notification endpoint will know the call is ours.
        var clientToken: String?
        if client.backchannelMode != .poll {
            guard let text = form["client_notification_token"] else {
                throw OAuthError(.invalidRequest, "client_notification_token is required for a \(client.backchannelMode.rawValue)-mode client")
            }
            clientToken = try BackchannelNotification.checkToken(text)
        }
        let now = clock.now
        // Unknown names are charged like wrong user codes, to the caller's address.
        let addressKey = FailureKey(.codeByAddress, context.clientIP)
        if let blocked = try await failures.retryAfter([addressKey], at: now) {
            throw Self.denied("too many requests naming unknown users from this address; try again in \(blocked) seconds",
                              retryAfter: blocked)
        }
        if try await users.user(named: loginHint) == nil {
            _ = try await failures.charge([addressKey], at: now)
        }

        let authRequestID = SecretToken.generate(using: random)
        let userAgent = String((request.headers[.userAgent] ?? "").prefix(200))
        for _ in 0..<8 {
            var grant = DeviceGrant(deviceCodeHash: SecretToken.hash(authRequestID), userCode: UserCode.generate(using: random),
                                    clientID: client.id, requestedScopes: scopes, createdAt: now, lifetime: lifetime,
                                    interval: client.interval, deviceIP: context.clientIP, userAgent: userAgent)
            grant.loginHint = loginHint
            grant.backchannel = true
            grant.bindingMessage = bindingMessage
            grant.notification = clientToken.map { BackchannelNotification(authRequestID: authRequestID, clientToken: $0) }
            // The flood limits are checked in the same step as the insert (exact under races).
            switch try await grants.insertBackchannelRequest(grant, perUser: Self.pendingPerUser, perClient: Self.pendingPerClient, at: now) {
            case .inserted(let id):
                audit.record("backchannel_request", outcome: "ok", address: context.clientIP, client: client.id, grant: String(id))
                events.publishInbox(loginHint: loginHint)
                return try JSONResponse.make(BackchannelAuthenticationResponse(
                    authRequestID: authRequestID, expiresIn: Int(lifetime),
                    interval: client.backchannelMode == .push ? nil : client.interval, pushURI: urls.pushURI))
            case .tooManyForUser:
                audit.record("backchannel_request", outcome: "refused_flood", address: context.clientIP, client: client.id)
                throw Self.denied("this user already has \(Self.pendingPerUser) requests waiting; try again when they are decided")
            case .tooManyForClient:
                audit.record("backchannel_request", outcome: "refused_flood", address: context.clientIP, client: client.id)
                throw Self.denied("this client already has \(Self.pendingPerClient) requests waiting")
            case .userCodeTaken:
                continue
            }
        }
        throw OAuthError(.temporarilyUnavailable, "could not allocate a request; try again")
    }

    /// CIBA Core §13: here `access_denied` is 403 Forbidden (at the token endpoint it stays 400,
    /// §11 / RFC 6749 §5.2).
    static func denied(_ description: String, retryAfter: Int? = nil) -> ErrorAnswer {
        ErrorAnswer(OAuthError(.accessDenied, description), status: .forbidden, retryAfter: retryAfter)
    }

    /// The request's parameters (CIBA Core §7.1), checked in order.
    static func read(_ form: FormBody, client: OAuthClient) throws(OAuthError)
        -> (scopes: ScopeSet, loginHint: String, bindingMessage: String?, lifetime: TimeInterval)
    {
        if form["request"] != nil { throw OAuthError(.invalidRequest, "signed authentication requests (request) are not supported") }
        guard let scopeText = form["scope"] else { throw OAuthError(.invalidRequest, "scope is required and must include openid") }
        let requested = try ScopeSet(parsing: scopeText)
        guard requested.contains("openid") else { throw OAuthError(.invalidScope, "scope must include openid (CIBA Core §7.1)") }
        let scopes = try ScopeSet.resolve(requested: requested, ceiling: client.scopes)
        let hints = ["login_hint_token", "id_token_hint", "login_hint"].filter { form[$0] != nil }
        guard hints.count == 1 else {
            throw OAuthError(.invalidRequest, "give exactly one of login_hint, login_hint_token and id_token_hint (\(hints.count) given)")
        }
        guard let loginHint = form["login_hint"] else {
            throw OAuthError(.invalidRequest, "\(hints[0]) is not supported: name the user with login_hint (a user name)")
        }
        guard !loginHint.isEmpty, loginHint.utf8.count <= 255, TerminalText.isClean(loginHint) else {
            throw OAuthError(.invalidRequest, "login_hint must be a user name of at most 255 bytes without control characters")
        }
        if form["user_code"] != nil {
            throw OAuthError(.invalidRequest, "user_code is not supported (backchannel_user_code_parameter_supported is false)")
        }
        let bindingMessage = try form["binding_message"].map { (text: String) throws(OAuthError) in try BindingMessage.check(text) }
        var lifetime = client.codeLifetime
        if let text = form["requested_expiry"] {
            guard let seconds = Int(text), seconds > 0 else {
                throw OAuthError(.invalidRequest, "requested_expiry must be a positive number of seconds")
            }
            lifetime = min(lifetime, TimeInterval(max(seconds, 10)))
        }
        return (scopes, loginHint, bindingMessage, lifetime)
    }
}

/// CIBA Core §7.3, with `push_uri` (an extension member, as in the device authorization
/// response; clients that do not know it ignore it, RFC 6749 §8.2 / CIBA §7.3). `interval` only
/// for poll and ping clients (§7.3): a push client never polls.
struct BackchannelAuthenticationResponse: Codable, Equatable {
    var authRequestID: String
    var expiresIn: Int
    var interval: Int?
    var pushURI: String

    enum CodingKeys: String, CodingKey {
        case authRequestID = "auth_req_id", expiresIn = "expires_in", interval, pushURI = "push_uri"
    }
}
