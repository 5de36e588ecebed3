import Foundation
import HallpassCore

/// Why an access token was refused, precisely (for logs and `hallpass token inspect`), and what
/// the wire may say of it (RFC 6750 §3.1: `invalid_token` or `insufficient_scope`, with nothing
/// that helps an attacker).
public enum TokenRejection: Error, Equatable, Sendable, CustomStringConvertible {
    case malformed(CompactJWS.Malformed)
    /// `none`, an HMAC algorithm, or any algorithm outside the allow-list.
    case algorithmRefused(String)
    /// The header names its own key (`jku`, `x5u`, `jwk`, `x5c`) or a critical extension.
    case headerNamesAKey(String)
    /// `typ` is not `at+jwt` (RFC 9068 §2.1): an ID token, a plain JWT.
    case notAnAccessToken(typ: String?, looksLikeIDToken: Bool)
    /// No published key has this `kid`, even after fetching the key set again.
    case unknownKey(kid: String?, published: [String])
    case badSignature
    /// The issuer says the token is not active (RFC 7662 §2.2): revoked, expired or unknown.
    case inactive
    case expired(secondsAgo: Int)
    case notYetValid(inSeconds: Int)
    case issuedInTheFuture(inSeconds: Int)
    case missingClaim(String)
    case wrongIssuer(expected: String, got: String)
    case wrongAudience(expected: String, got: [String])
    case insufficientScope(needed: ScopeSet, granted: ScopeSet)
    /// The key set could not be fetched: the server's fault, not the token's (answer 503).
    case keysUnavailable(String)
    /// RFC 9449 §7.2: a token bound to a DPoP key came as a bearer token.
    case dpopBoundPresentedAsBearer
    /// The resource takes only DPoP-bound tokens (`DPoPOptions.requireDPoP`).
    case notDPoPBound
    /// A DPoP presentation, but this resource server was not told its own URL
    /// (`DPoPOptions.publicBaseURL`), so it cannot check a proof's `htu`.
    case dpopNotConfigured
    /// RFC 9449 §4.3, §7.1: the proof that came with the token fails a check.
    case dpopProof(DPoPProof.Refusal)

    /// The RFC 6750 §3.1 error code.
    public var errorCode: String {
        switch self {
        case .insufficientScope: "insufficient_scope"
        case .keysUnavailable: "temporarily_unavailable"
        case .dpopProof: "invalid_dpop_proof"
        default: "invalid_token"
        }
    }

    /// What the wire says: short and the same for every signature or key failure.
    public var publicDescription: String {
        switch self {
        case .expired: "the access token expired"
        case .insufficientScope(let needed, _): "the request needs scope \(needed)"
        case .keysUnavailable: "the token cannot be checked right now"
        case .dpopBoundPresentedAsBearer: "the access token is DPoP-bound: present it as DPoP with a proof"
        case .notDPoPBound: "this resource takes DPoP-bound access tokens only"
        case .dpopNotConfigured: "this resource does not take DPoP-bound access tokens"
        case .dpopProof: "the DPoP proof is invalid"
        default: "the access token is invalid"
        }
    }

    /// The whole reason in one line, for a log or a person.
    public var description: String {
        switch self {
        case .malformed(let why): "malformed: \(why)"
        case .algorithmRefused(let alg): "algorithm \(alg) is refused (only asymmetric algorithms the issuer uses are accepted)"
        case .headerNamesAKey(let field): "the header names its own key (\(field)); keys come only from the issuer's key set"
        case .notAnAccessToken(let typ, let idToken):
            idToken ? "this is an ID token (typ \(typ ?? "absent")), not an access token"
                    : "typ is \(typ ?? "absent"), not at+jwt (RFC 9068): not an access token"
        case .unknownKey(let kid, let published):
            "no published key has kid \(kid ?? "(none)"); the issuer publishes \(published.isEmpty ? "no keys" : published.joined(separator: ", "))"
        case .badSignature: "the signature does not verify with the published key"
        case .inactive: "the issuer says the token is not active (revoked, expired or unknown)"
        case .expired(let ago): "expired \(Self.duration(ago)) ago"
        case .notYetValid(let seconds): "not valid for another \(Self.duration(seconds)) (nbf)"
        case .issuedInTheFuture(let seconds): "issued \(Self.duration(seconds)) in the future (iat): is a clock wrong?"
        case .missingClaim(let name): "the required claim \(name) is missing"
        case .wrongIssuer(let expected, let got): "issuer is \(got), expected \(expected)"
        case .wrongAudience(let expected, let got): "audience is \(got.isEmpty ? "(none)" : got.joined(separator: ", ")), expected \(expected)"
        case .insufficientScope(let needed, let granted): "needs scope \(needed), the token has \(granted.isEmpty ? "none" : granted.description)"
        case .keysUnavailable(let why): "the issuer's keys could not be fetched: \(why)"
        case .dpopBoundPresentedAsBearer: "DPoP-bound (cnf.jkt) but presented as Bearer: it needs the DPoP scheme and a proof from its key"
        case .notDPoPBound: "not DPoP-bound, and this resource takes DPoP-bound tokens only"
        case .dpopNotConfigured: "a DPoP presentation, but the resource server has no publicBaseURL to check the proof's htu against"
        case .dpopProof(let refusal): refusal.description
        }
    }

    static func duration(_ seconds: Int) -> String {
        switch seconds {
        case ..<120: "\(seconds) s"
        case ..<7200: "\(seconds / 60) min"
        default: "\(seconds / 3600) h"
        }
    }
}
