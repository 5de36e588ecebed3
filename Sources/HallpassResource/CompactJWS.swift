import Foundation
import HallpassCore

/// A JWS in compact serialization (RFC 7515 §7.1), read before any key is trusted: its header
/// and claims, decoded strictly, so a verifier can refuse by the header alone (`alg: none`, an
/// HMAC algorithm, a header naming its own key) and explain every refusal.
public struct CompactJWS: Sendable {
    /// The header fields a verifier decides on (RFC 7515 §4.1).
    public struct Header: Decodable, Sendable, Equatable {
        public var alg: String?
        public var typ: String?
        public var kid: String?
        /// Present only in forgeries here: a token must never tell the verifier which key to use.
        public var jku: String?
        public var x5u: String?
        public var jwk: [String: JSONScalar]?
        public var x5c: [String]?
        public var crit: [String]?
    }

    /// A JSON value as far as a header needs it.
    public enum JSONScalar: Decodable, Sendable, Equatable {
        case string(String), number(Double), bool(Bool), other
        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) { self = .string(s) }
            else if let n = try? c.decode(Double.self) { self = .number(n) }
            else if let b = try? c.decode(Bool.self) { self = .bool(b) }
            else { self = .other }
        }
    }

    /// RFC 9068 §2.2 claims (and RFC 9449 §6 `cnf`), as sent; `aud` may be a string or an array.
    public struct Claims: Decodable, Sendable, Equatable {
        public var iss: String?
        public var sub: String?
        public var aud: [String]?
        public var exp: Double?
        public var nbf: Double?
        public var iat: Double?
        public var jti: String?
        public var clientID: String?
        public var scope: String?
        public var cnf: Confirmation?
        /// Only an ID token carries these (OpenID Connect Core §2).
        public var nonce: String?
        public var atHash: String?

        public struct Confirmation: Decodable, Sendable, Equatable {
            public var jkt: String?
        }

        enum CodingKeys: String, CodingKey {
            case iss, sub, aud, exp, nbf, iat, jti, scope, cnf, nonce
            case clientID = "client_id", atHash = "at_hash"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            iss = try c.decodeIfPresent(String.self, forKey: .iss)
            sub = try c.decodeIfPresent(String.self, forKey: .sub)
            if let one = try? c.decodeIfPresent(String.self, forKey: .aud) { aud = [one] }
            else { aud = try c.decodeIfPresent([String].self, forKey: .aud) }
            exp = try c.decodeIfPresent(Double.self, forKey: .exp)
            nbf = try c.decodeIfPresent(Double.self, forKey: .nbf)
            iat = try c.decodeIfPresent(Double.self, forKey: .iat)
            jti = try c.decodeIfPresent(String.self, forKey: .jti)
            clientID = try c.decodeIfPresent(String.self, forKey: .clientID)
            scope = try c.decodeIfPresent(String.self, forKey: .scope)
            cnf = try c.decodeIfPresent(Confirmation.self, forKey: .cnf)
            nonce = try c.decodeIfPresent(String.self, forKey: .nonce)
            atHash = try c.decodeIfPresent(String.self, forKey: .atHash)
        }
    }

    public let header: Header
    public let claims: Claims

    /// Why a string is not a JWS at all; each says which part is wrong.
    public enum Malformed: Error, Equatable, Sendable, CustomStringConvertible {
        /// A Hallpass secret that is no JWT: `rt_` refresh token, `ac_` code, `cs_` session.
        case hallpassSecret(String)
        case parts(Int)
        case header, payload, signature

        public var description: String {
            switch self {
            case .hallpassSecret(let kind): "this is a Hallpass \(kind), not an access token"
            case .parts(let count): "a JWS has 3 parts separated by '.', this has \(count)"
            case .header: "the header is not base64url-encoded JSON"
            case .payload: "the payload is not base64url-encoded JSON claims"
            case .signature: "the signature is not base64url"
            }
        }
    }

    static let secretPrefixes = [("rt_", "refresh token"), ("ac_", "authorization code"), ("cs_", "consent session")]

    public init(parsing token: String) throws(Malformed) {
        if let (_, kind) = Self.secretPrefixes.first(where: { token.hasPrefix($0.0) }) { throw .hallpassSecret(kind) }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .parts(parts.count) }
        guard let headerBytes = Base64URL.decode(String(parts[0])),
              let header = try? JSONDecoder().decode(Header.self, from: headerBytes)
        else { throw .header }
        guard let payloadBytes = Base64URL.decode(String(parts[1])),
              let claims = try? JSONDecoder().decode(Claims.self, from: payloadBytes)
        else { throw .payload }
        guard parts[2].isEmpty || Base64URL.decode(String(parts[2])) != nil else { throw .signature }
        self.header = header
        self.claims = claims
    }
}
