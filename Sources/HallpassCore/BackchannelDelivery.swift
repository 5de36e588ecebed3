/// CIBA Core §5 token delivery modes, as a client registers them (`clients add … --ciba-mode`).
public enum BackchannelDeliveryMode: String, Sendable, CaseIterable, Codable {
    /// §10.1: the client polls the token endpoint.
    case poll
    /// §10.2: the server calls the client's notification endpoint with the `auth_req_id`; the
    /// client then fetches the tokens at the token endpoint.
    case ping
    /// §10.3: the server sends the token response itself to the notification endpoint.
    case push

    /// The notification endpoint must be https, or http on a loopback address (for tests and
    /// clients on the same machine): the same rule as redirect URIs (`RedirectURI`).
    public static func checkEndpoint(_ text: String) throws(RedirectURI.Invalid) -> String {
        _ = try RedirectURI(registering: text)
        return text
    }
}

/// What a ping or push delivery needs to reach the client (CIBA Core §7.1, §10.2–10.3): the
/// `auth_req_id` itself (a poll-mode request keeps only its hash) and the bearer token the client
/// gave (`client_notification_token`) to authenticate the call to it.
public struct BackchannelNotification: Sendable, Equatable {
    public var authRequestID: String
    public var clientToken: String
    public init(authRequestID: String, clientToken: String) {
        self.authRequestID = authRequestID
        self.clientToken = clientToken
    }

    /// §7.1: a bearer token, at most 1024 characters. RFC 6750 §2.1 `b64token`: one or more of
    /// `A-Z a-z 0-9 - . _ ~ + /`, then only `=` (padding, never in the middle).
    public static func checkToken(_ text: String) throws(OAuthError) -> String {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/")
        let body = text.prefix { $0 != "=" }
        guard !body.isEmpty, text.count <= 1024, body.allSatisfy(allowed.contains), text.dropFirst(body.count).allSatisfy({ $0 == "=" }) else {
            throw OAuthError(.invalidRequest, "client_notification_token must be a bearer token (RFC 6750 §2.1 characters) of at most 1024")
        }
        return text
    }
}
