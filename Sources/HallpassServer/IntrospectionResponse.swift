/// An introspection answer (RFC 7662 §2.2): `{"active":false}` and nothing else for a token that
/// is not currently valid; the token's claims otherwise.
struct IntrospectionResponse: Codable, Equatable {
    var active: Bool
    var tokenType: String?
    var scope: String?
    var clientID: String?
    var sub: String?
    var username: String?
    var aud: String?
    var iss: String?
    var iat: Int?
    var exp: Int?
    var jti: String?
    /// RFC 9449 §6.2: the DPoP key a token is bound to.
    var cnf: AccessTokenClaims.Confirmation?
    /// How the approver authenticated (ARCHITECTURE.md §4.8), as the token's claims say.
    var authTime: Int?
    var amr: [String]?
    var acr: String?

    static let inactive = IntrospectionResponse(active: false)

    enum CodingKeys: String, CodingKey {
        case active, tokenType = "token_type", scope, clientID = "client_id", sub, username, aud, iss, iat, exp, jti, cnf
        case authTime = "auth_time", amr, acr
    }
}

/// The UserInfo answer (OIDC Core §5.3.2): `sub`, and the profile claims when `profile` was granted.
struct UserInfo: Codable, Equatable {
    var sub: String
    var preferredUsername: String?
    var name: String?

    enum CodingKeys: String, CodingKey { case sub, preferredUsername = "preferred_username", name }
}
