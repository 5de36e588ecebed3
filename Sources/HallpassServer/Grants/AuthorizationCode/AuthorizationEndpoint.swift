import Foundation
import HallpassCore
import HallpassStore
import Hummingbird

/// The authorization endpoint (RFC 6749 §3.1, §4.1.1; RFC 7636; OpenID Connect Core §3.1.2),
/// `GET` or `POST /oauth/authorize`, and the waiting page each valid request becomes
/// (ARCHITECTURE.md §4.5). The browser never sees a password form: the request waits, with a user
/// code, until a person decides it in a terminal; the page then sends the browser back.
struct AuthorizationEndpoint {
    let clients: any ClientStore
    let grants: any GrantStore
    let scopes: any ScopeStore
    let urls: IssuerURLs
    let clock: any WallClock
    let random: any RandomSource
    /// The SSH front's address, when advertised: the page says how to reach it.
    let sshConsentURI: String?
    let metrics: ServerMetrics

    static let path = "/oauth/authorize"
    static let pagePath = "/oauth/authorize/request/"
    static let scriptPath = "/oauth/authorize/page.js"

    func addRoutes(to group: RouterGroup<HallpassRequestContext>) {
        group.get("oauth/authorize") { request, context in try await self.authorize(request, context: context) }
        group.post("oauth/authorize") { request, context in try await self.authorize(request, context: context) }
        group.get("oauth/authorize/request/:handle") { request, context in
            try await self.page(handle: context.parameters.get("handle") ?? "")
        }
        group.get("oauth/authorize/page.js") { _, _ in WebPage.script(SignInPage.script) }
        // RFC 9110 §9.3.2: HEAD answers as GET would, without the body. HEAD never begins a
        // sign-in: the endpoint itself answers 405 and names its methods.
        group.head("oauth/authorize/request/:handle") { _, context in
            WebPage.headOnly(try await self.page(handle: context.parameters.get("handle") ?? ""))
        }
        group.head("oauth/authorize/page.js") { _, _ in WebPage.headOnly(WebPage.script(SignInPage.script)) }
        for method in [HTTPRequest.Method.head, .put, .delete, .patch] {
            group.on("oauth/authorize", method: method) { _, _ -> Response in
                var response = WebPage.error("The authorization endpoint answers GET and POST only.", status: .methodNotAllowed)
                response.headers[.allow] = "GET, POST"
                return method == .head ? WebPage.headOnly(response) : response
            }
        }
    }

    /// RFC 6749 §4.1.2.1: faults of the client or redirect URI get an error page; every other
    /// fault goes back to the client; a sound request becomes a pending sign-in and the browser
    /// is sent (303) to its page.
    func authorize(_ request: Request, context: HallpassRequestContext) async throws -> Response {
        var request = request
        let parameters: AuthorizationRequest.Parameters
        do {
            if request.method == .post {
                let mediaType = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
                guard mediaType == "application/x-www-form-urlencoded" else {
                    return WebPage.error("The sign-in request must be sent as a form (application/x-www-form-urlencoded).",
                                         status: .unsupportedMediaType)
                }
                parameters = .init(try FormBody.pairs(parsing: try await request.bodyBytes(context: context)))
            } else {
                parameters = .init(try FormBody.pairs(parsing: Array((request.uri.query ?? "").utf8)))
            }
        } catch let error as OAuthError {
            return WebPage.error("The sign-in request is malformed: \(error.errorDescription ?? error.code.description).")
        }
        do {
            let clientID = try parameters.clientID()
            guard let client = try await clients.client(id: clientID) else {
                throw AuthorizationRequest.Refusal.page("no client is registered as \(FormBody.quoted(clientID))")
            }
            let (checked, scopes) = try AuthorizationRequest.check(parameters, client: client)
            return try await begin(checked, scopes: scopes, client: client, request: request, context: context)
        } catch let refusal as AuthorizationRequest.Refusal {
            switch refusal {
            case .page(let why):
                return WebPage.error("This sign-in request cannot be trusted, so the browser is not sent back to the application: \(why).")
            case .redirect(let error, let redirectURI, let state):
                return WebPage.redirect(AuthorizationRequest.errorResponse(to: redirectURI, error, state: state, issuer: urls.issuer))
            }
        }
    }

    /// Stores the pending sign-in under a fresh user code (the device grants' alphabet and
    /// format) and sends the browser to its page.
    private func begin(_ checked: AuthorizationRequest, scopes: ScopeSet, client: OAuthClient,
                       request: Request, context: HallpassRequestContext) async throws -> Response {
        let now = clock.now
        let handle = AuthorizationCode.pageHandle(using: random)
        let userAgent = String((request.headers[.userAgent] ?? "").prefix(200))
        for _ in 0..<8 {
            var grant = DeviceGrant(
                deviceCodeHash: SecretToken.hash(handle), userCode: UserCode.generate(using: random), clientID: client.id,
                requestedScopes: scopes, createdAt: now, lifetime: client.codeLifetime, interval: client.interval,
                deviceIP: context.clientIP, userAgent: userAgent)
            grant.authorization = checked
            grant.authorizationCodeHash = AuthorizationCode.storedHash(forPage: handle)
            if case .inserted = try await grants.insertGrant(grant) {
                metrics.signInRequests.increment()
                return WebPage.redirect(urls.endpoint(Self.pagePath + handle))
            }
        }
        return WebPage.redirect(AuthorizationRequest.errorResponse(
            to: checked.redirectURI, OAuthError(.temporarilyUnavailable, "could not allocate a user code; try again"),
            state: checked.state, issuer: urls.issuer))
    }

    /// The waiting page: while pending, the page (again); once decided, 303 to the client with
    /// the code or `access_denied` (the same answer on every visit: the code is derived from the
    /// handle); expired or used, a page that says so.
    func page(handle: String) async throws -> Response {
        guard AuthorizationCode.isPageHandle(handle),
              let grant = try await grants.grant(deviceCodeHash: SecretToken.hash(handle)),
              let authorization = grant.authorization
        else { return WebPage.error("There is no such sign-in request. Start again from the application.", status: .notFound) }
        let now = clock.now
        switch grant.effectiveStatus(at: now) {
        case .approved:
            return WebPage.redirect(AuthorizationRequest.response(
                to: authorization.redirectURI, [("code", AuthorizationCode.code(forPage: handle))],
                state: authorization.state, issuer: urls.issuer))
        case .denied:
            return WebPage.redirect(AuthorizationRequest.errorResponse(
                to: authorization.redirectURI, OAuthError(.accessDenied, "the person denied the sign-in"),
                state: authorization.state, issuer: urls.issuer))
        case .expired:
            return WebPage.notice(title: "Sign-in expired",
                                  "This sign-in request expired before it was used. Start again from the application.")
        case .redeemed:
            return WebPage.notice(title: "Signed in", "This sign-in is complete. You can close this tab.")
        case .pending:
            let client = try await clients.client(id: grant.clientID)
            let descriptions = try await scopes.scopeDescriptions()
            let page = SignInPage(
                clientID: grant.clientID, clientName: client?.name ?? grant.clientID, redirectHost: authorization.redirectHost,
                scopes: grant.requestedScopes.map { ($0, descriptions[$0] ?? "(no description registered)") },
                userCode: grant.userCode.display, secondsLeft: grant.secondsLeft(at: now), issuer: urls.issuer,
                sshCommand: sshConsentURI.flatMap(SSHConsentAddress.init(uri:))?.command,
                pageURL: urls.endpoint(Self.pagePath + handle), scriptURL: urls.endpoint(Self.scriptPath),
                pushURI: urls.pushURI, handle: handle)
            return WebPage.html(page.html, pushURI: urls.pushURI)
        }
    }
}
