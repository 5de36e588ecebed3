/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3), served `no-store`.
struct TokenResponse: Codable, Equatable {
    var accessToken: String
    var tokenType = "Bearer"
    var expiresIn: Int
    var scope: String
    var refreshToken: String?
    var idToken: String?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token", tokenType = "token_type", expiresIn = "expires_in", scope
        case refreshToken = "refresh_token", idToken = "id_token"
    }

}
