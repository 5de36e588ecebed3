import HallpassCore

/// The authorization server's metadata (RFC 8414 §2), and with `openID` the OpenID Provider
/// metadata (OpenID Connect Discovery 1.0 §3): the same document with three more fields.
struct ServerMetadata: Codable, Equatable {
    var issuer: String
    var authorizationEndpoint: String
    var deviceAuthorizationEndpoint: String
    /// An extension field (RFC 8414 §2 allows more): Hallpass's push channel.
    var devicePushEndpoint: String
    var tokenEndpoint: String
    var revocationEndpoint: String
    var introspectionEndpoint: String
    var userinfoEndpoint: String
    var jwksURI: String
    var grantTypesSupported: [String]
    /// RFC 8414 §2 (required): the authorization endpoint serves `code` only.
    var responseTypesSupported = ["code"]
    var responseModesSupported = ["query"]
    var tokenEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post", "none"]
    var revocationEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post", "none"]
    var introspectionEndpointAuthMethodsSupported = ["client_secret_basic", "client_secret_post"]
    var scopesSupported: [String]
    /// RFC 7636 §4.2: S256 only (RFC 9700 §2.1.1: plain is not offered).
    var codeChallengeMethodsSupported = ["S256"]
    /// RFC 9207 §3: every authorization response carries `iss`.
    var authorizationResponseIssParameterSupported = true
    /// RFC 9449 §5.1: the algorithms DPoP proofs may be signed with.
    var dpopSigningAlgValuesSupported = DPoPProof.algorithms
    /// OpenID Connect CIBA Core §4 (ARCHITECTURE.md §4.9): poll mode only; no user codes.
    var backchannelAuthenticationEndpoint: String?
    var backchannelTokenDeliveryModesSupported: [String]?
    var backchannelUserCodeParameterSupported: Bool?
    /// An extension field: the terminal consent front over SSH.
    var consentSSHURI: String?
    // OpenID Connect Discovery 1.0 §3 only.
    var subjectTypesSupported: [String]?
    var idTokenSigningAlgValuesSupported: [String]?
    var claimsSupported: [String]?
    /// Discovery §3: the `acr` values this server issues (after a fresh second factor, §4.8).
    var acrValuesSupported: [String]?
    /// Discovery §3 defaults `request_uri_parameter_supported` to true: say that neither request
    /// objects nor request URIs are supported (OpenID Connect Core §6).
    var requestParameterSupported: Bool?
    var requestURIParameterSupported: Bool?

    enum CodingKeys: String, CodingKey {
        case issuer
        case authorizationEndpoint = "authorization_endpoint"
        case deviceAuthorizationEndpoint = "device_authorization_endpoint"
        case devicePushEndpoint = "device_push_endpoint"
        case tokenEndpoint = "token_endpoint"
        case revocationEndpoint = "revocation_endpoint"
        case introspectionEndpoint = "introspection_endpoint"
        case userinfoEndpoint = "userinfo_endpoint"
        case jwksURI = "jwks_uri"
        case grantTypesSupported = "grant_types_supported"
        case responseTypesSupported = "response_types_supported"
        case responseModesSupported = "response_modes_supported"
        case authorizationResponseIssParameterSupported = "authorization_response_iss_parameter_supported"
        case tokenEndpointAuthMethodsSupported = "token_endpoint_auth_methods_supported"
        case revocationEndpointAuthMethodsSupported = "revocation_endpoint_auth_methods_supported"
        case introspectionEndpointAuthMethodsSupported = "introspection_endpoint_auth_methods_supported"
        case scopesSupported = "scopes_supported"
        case codeChallengeMethodsSupported = "code_challenge_methods_supported"
        case consentSSHURI = "consent_ssh_uri"
        case backchannelAuthenticationEndpoint = "backchannel_authentication_endpoint"
        case backchannelTokenDeliveryModesSupported = "backchannel_token_delivery_modes_supported"
        case backchannelUserCodeParameterSupported = "backchannel_user_code_parameter_supported"
        case dpopSigningAlgValuesSupported = "dpop_signing_alg_values_supported"
        case subjectTypesSupported = "subject_types_supported"
        case idTokenSigningAlgValuesSupported = "id_token_signing_alg_values_supported"
        case claimsSupported = "claims_supported"
        case acrValuesSupported = "acr_values_supported"
        case requestParameterSupported = "request_parameter_supported"
        case requestURIParameterSupported = "request_uri_parameter_supported"
    }

    /// The OpenID Provider fields (Discovery §3): RS256 always among the ID token algorithms.
    mutating func addOpenIDFields(idTokenAlgorithms: [String]) {
        subjectTypesSupported = ["public"]
        idTokenSigningAlgValuesSupported = idTokenAlgorithms
        claimsSupported = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr", "acr", "name",
                           "preferred_username"]
        acrValuesSupported = [AuthenticationContext.stepUpACR]
        requestParameterSupported = false
        requestURIParameterSupported = false
        // Discovery §3: `openid` must be listed, described by the operator or not.
        if !scopesSupported.contains("openid") { scopesSupported.insert("openid", at: 0) }
    }
}

/// A JSON Web Key Set (RFC 7517 §5): the public keys, current and retired.
struct JWKSet: Codable, Equatable {
    var keys: [[String: String]]
}

/// What the health endpoints answer: `ok`, or `unavailable` and why the store did not answer.
struct HealthAnswer: Codable, Equatable {
    var status: String
    var store: String?
}
