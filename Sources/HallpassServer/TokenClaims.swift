import Foundation
import JWTKit

/// RFC 9068 §2.2 JWT access token claims.
public struct AccessTokenClaims: JWTPayload, Equatable {
    public var iss: String
    public var sub: String
    public var aud: String
    public var client_id: String
    public var scope: String
    public var iat: Int
    public var exp: Int
    public var jti: String
    public var auth_time: Int?
    /// RFC 9068 §2.2.1 (from OpenID Connect): how the approver authenticated (RFC 8176 values)
    /// and, after a fresh second factor, the class (ARCHITECTURE.md §4.8).
    public var amr: [String]?
    public var acr: String?
    /// RFC 9449 §6.1: the DPoP key the token is bound to.
    public var cnf: Confirmation?

    /// RFC 7800 §3.1 confirmation, with RFC 9449's `jkt` (the key's RFC 7638 thumbprint).
    public struct Confirmation: Codable, Equatable, Sendable {
        public var jkt: String
    }

    /// Signature only: expiry and revocation are judged against the stored record with the
    /// server's injected clock, never the wall clock inside the JWT library.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// OpenID Connect Core §2 ID token claims, issued when `openid` is granted.
public struct IDTokenClaims: JWTPayload, Equatable {
    public var iss: String
    public var sub: String
    public var aud: String
    public var iat: Int
    public var exp: Int
    public var auth_time: Int
    /// OpenID Connect Core §3.1.2.1: the authorization request's `nonce`, unchanged.
    public var nonce: String?
    /// OpenID Connect Core §3.1.3.6: the left half of the access token's hash.
    public var at_hash: String?
    /// OpenID Connect Core §2: RFC 8176 methods and the authentication context class.
    public var amr: [String]?
    public var acr: String?
    public var preferred_username: String?
    public var name: String?
    /// CIBA Core §10.3.1, in push mode only: the request the pushed tokens answer, and the left
    /// half of the refresh token's hash (as `at_hash`), so the ID token's signature vouches for
    /// the whole pushed response.
    public var auth_req_id: String?
    public var rt_hash: String?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, iat, exp, auth_time, nonce, at_hash, amr, acr, preferred_username, name
        case auth_req_id = "urn:openid:params:jwt:claim:auth_req_id", rt_hash = "urn:openid:params:jwt:claim:rt_hash"
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
