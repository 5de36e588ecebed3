import Foundation

/// A browser's authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect Core
/// §3.1.2.1) once checked: what its authorization code is bound to. It waits, as a grant with a
/// user code, until a person decides it in a terminal (ARCHITECTURE.md §4.5).
public struct AuthorizationRequest: Sendable, Equatable {
    /// Where the browser goes back: the request's `redirect_uri`, or the client's only
    /// registration when the request named none.
    public var redirectURI: String
    /// RFC 6749 §4.1.3: a token request must repeat `redirect_uri` when the authorization
    /// request carried it.
    public var redirectURISent: Bool
    /// Echoed to the client unchanged (RFC 6749 §4.1.2).
    public var state: String?
    /// RFC 7636 §4.4: kept for the token request's `code_verifier`.
    public var codeChallenge: String
    /// OpenID Connect Core §3.1.2.1: copied into the ID token.
    public var nonce: String?

    public init(redirectURI: String, redirectURISent: Bool, state: String?, codeChallenge: String, nonce: String?) {
        self.redirectURI = redirectURI
        self.redirectURISent = redirectURISent
        self.state = state
        self.codeChallenge = codeChallenge
        self.nonce = nonce
    }

    /// The parameters this endpoint reads (RFC 6749 §4.1.1, RFC 7636 §4.3, OpenID Connect Core
    /// §3.1.2.1, §6); any other is ignored.
    static let understood: Set<String> = [
        "response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method",
        "nonce", "prompt", "response_mode", "request", "request_uri", "max_age", "display", "login_hint", "ui_locales",
        "id_token_hint", "acr_values", "claims",
    ]

    /// The longest `state` and `nonce` Hallpass keeps and echoes.
    public static let maxStateLength = 1024

    /// The host the browser will be sent back to, for the consent screen and the page.
    public var redirectHost: String {
        URLComponents(string: redirectURI).flatMap { components in
            components.host.map { host in components.port.map { "\(host):\($0)" } ?? host }
        } ?? redirectURI
    }

    /// Why a request is refused, told apart by where the answer may go (RFC 6749 §4.1.2.1).
    public enum Refusal: Error, Equatable, Sendable {
        /// The client or the redirect URI is missing, unknown or doubtful: the person sees an
        /// error page and the browser is never redirected (an open redirector otherwise).
        case page(String)
        /// Everything else goes back to the client: `error`, `error_description` and `state`.
        case redirect(OAuthError, redirectURI: String, state: String?)
    }

    /// The request's parameters, repeats kept (RFC 6749 §3.1: none may be sent twice).
    public struct Parameters: Sendable {
        let pairs: [(name: String, value: String)]

        public init(_ pairs: [(name: String, value: String)]) { self.pairs = pairs }

        /// The value of `name` when it was sent exactly once; empty counts as absent (§3.1).
        public subscript(_ name: String) -> String? {
            let values = pairs.filter { $0.name == name }.map(\.value)
            guard values.count == 1, let value = values.first, !value.isEmpty else { return nil }
            return value
        }

        func isRepeated(_ name: String) -> Bool { pairs.count { $0.name == name } > 1 }

        /// The first parameter Hallpass understands that was sent twice (RFC 6749 §3.1).
        /// Parameters it does not know are ignored (§3.1), repeated or not (RFC 8707 §2 repeats
        /// `resource`).
        var repeatedName: String? {
            var seen = Set<String>()
            return pairs.first { AuthorizationRequest.understood.contains($0.name) && !seen.insert($0.name).inserted }?.name
        }

        /// Step one of §4.1.2.1: the client, which must be named exactly once.
        public func clientID() throws(Refusal) -> String {
            guard !isRepeated("client_id") else { throw .page("client_id is repeated") }
            guard let id = self["client_id"] else { throw .page("the request has no client_id") }
            return id
        }
    }

    /// Step two: everything else, in the order RFC 6749 §4.1.2.1 sets. First the redirect URI,
    /// whose faults only an error page may tell; then, once the browser may safely go back to
    /// the client, every other fault as a redirect with `state`. Returns the request and the
    /// scopes it asks for (the client's ceiling when it names none, RFC 6749 §3.3).
    public static func check(_ parameters: Parameters, client: OAuthClient) throws(Refusal) -> (request: AuthorizationRequest, scopes: ScopeSet) {
        guard !parameters.isRepeated("redirect_uri") else { throw .page("redirect_uri is repeated") }
        let requested = parameters["redirect_uri"]
        guard let registered = client.redirectURI(requested: requested) else {
            if client.redirectURIs.isEmpty { throw .page("this client has no registered redirect URI") }
            throw .page(requested == nil ? "this client registered several redirect URIs: the request must name one"
                                         : "redirect_uri is not registered for this client")
        }
        // OpenID Connect Core §3.1.2.1: an OpenID request names its redirect_uri, always.
        if requested == nil, !parameters.isRepeated("scope"), let scope = parameters["scope"],
           scope.split(separator: " ").contains("openid") {
            throw .page("an OpenID Connect request (scope openid) must name its redirect_uri")
        }
        let redirectURI = requested ?? registered.value
        let state = parameters.isRepeated("state") ? nil : parameters["state"]
        func refuse(_ code: OAuthError.Code, _ description: String) -> Refusal {
            .redirect(OAuthError(code, description), redirectURI: redirectURI, state: state)
        }
        if let name = parameters.repeatedName { throw refuse(.invalidRequest, "parameter \(FormBody.quoted(name)) is repeated") }
        guard let responseType = parameters["response_type"] else { throw refuse(.invalidRequest, "missing parameter response_type") }
        guard responseType == "code" else {
            throw refuse(.unsupportedResponseType, "response_type \(FormBody.quoted(responseType)) is not supported; use code")
        }
        guard client.grantTypes.contains(.authorizationCode) else {
            throw refuse(.unauthorizedClient, "this client may not use the authorization code grant")
        }
        // OpenID Connect Core §6.1, §6.2: request objects are refused, never silently ignored.
        if parameters["request"] != nil { throw refuse(.requestNotSupported, "request objects are not supported") }
        if parameters["request_uri"] != nil { throw refuse(.requestURINotSupported, "request_uri is not supported") }
        if let mode = parameters["response_mode"], mode != "query" {
            throw refuse(.invalidRequest, "response_mode \(FormBody.quoted(mode)) is not supported; use query")
        }
        let challenge: PKCE.CodeChallenge
        do {
            challenge = try PKCE.CodeChallenge(challenge: parameters["code_challenge"], method: parameters["code_challenge_method"])
        } catch {
            throw refuse(.invalidRequest, error.description)
        }
        for name in ["state", "nonce"] where (parameters[name]?.utf8.count ?? 0) > maxStateLength {
            throw refuse(.invalidRequest, "\(name) is longer than \(maxStateLength) bytes")
        }
        let scopes: ScopeSet
        do {
            let asked = try parameters["scope"].map { (text: String) throws(OAuthError) in try ScopeSet(parsing: text) }
            scopes = try ScopeSet.resolve(requested: asked, ceiling: client.scopes)
        } catch {
            throw .redirect(error, redirectURI: redirectURI, state: state)
        }
        guard !scopes.isEmpty else { throw refuse(.invalidScope, "no scope to request") }
        // OpenID Connect Core §3.1.2.1: `prompt=none` asks for no interaction, and every
        // Hallpass sign-in is a person deciding in a terminal.
        if let prompt = parameters["prompt"], prompt.split(separator: " ").contains("none") {
            // §3.1.2.1: `none` with any other value is an error of the request itself.
            guard prompt.split(separator: " ").count == 1 else { throw refuse(.invalidRequest, "prompt=none cannot be combined with other values") }
            throw refuse(.loginRequired, "every sign-in is approved by a person in a terminal; prompt=none cannot be honoured")
        }
        let request = AuthorizationRequest(redirectURI: redirectURI, redirectURISent: requested != nil, state: state,
                                           codeChallenge: challenge.value, nonce: parameters["nonce"])
        return (request, scopes)
    }

    /// The URL an answer sends the browser to (RFC 6749 §4.1.2, RFC 9207): the redirect URI with
    /// `parameters`, `state` when the request had one, and `iss`, added to any query it has.
    public static func response(to redirectURI: String, _ parameters: [(String, String)], state: String?, issuer: String) -> String {
        var all = parameters
        if let state { all.append(("state", state)) }
        all.append(("iss", issuer))
        let separator = redirectURI.contains("?") ? (redirectURI.hasSuffix("?") || redirectURI.hasSuffix("&") ? "" : "&") : "?"
        return redirectURI + separator + FormBody.encode(all)
    }

    /// The error redirect for `error`.
    public static func errorResponse(to redirectURI: String, _ error: OAuthError, state: String?, issuer: String) -> String {
        var parameters = [("error", error.code.description)]
        if let description = error.errorDescription { parameters.append(("error_description", description)) }
        return response(to: redirectURI, parameters, state: state, issuer: issuer)
    }
}
