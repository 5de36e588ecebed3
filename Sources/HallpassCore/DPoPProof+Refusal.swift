extension DPoPProof {
    /// Why a DPoP proof is refused (RFC 9449 §4.3), each in words a client developer can act on.
    /// On the wire: `invalid_dpop_proof`, or `use_dpop_nonce` for the two nonce cases (§8, §9).
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        case missing
        case severalHeaders
        case malformed(String)
        case wrongType(String?)
        case algorithm(String?)
        case missingKey
        case privateKey(String)
        case badKey(String)
        case badSignature
        case missingClaim(String)
        case method(expected: String, got: String)
        case uri(expected: String, got: String)
        case tooOld(seconds: Int)
        case inFuture(seconds: Int)
        case nonceMissing
        case nonceStale
        case replayed
        case accessTokenHashMismatch
        case keyMismatch

        /// The server wants a (fresh) nonce: answer `use_dpop_nonce` with a `DPoP-Nonce` header.
        public var wantsNonce: Bool { self == .nonceMissing || self == .nonceStale }

        public var description: String {
            switch self {
            case .missing: "a DPoP proof is required (header DPoP)"
            case .severalHeaders: "send exactly one DPoP header"
            case .malformed(let what): "the DPoP proof is malformed: \(what)"
            case .wrongType(let typ): "the DPoP proof's typ must be dpop+jwt, not \(typ ?? "(none)")"
            case .algorithm(let alg):
                "the DPoP proof's alg \(alg ?? "(none)") is not accepted; use one of \(DPoPProof.algorithms.joined(separator: ", "))"
            case .missingKey: "the DPoP proof's header has no jwk"
            case .privateKey(let member): "the DPoP proof's jwk holds a private key (member \(member)); that key is compromised"
            case .badKey(let what): "the DPoP proof's jwk is not a usable public key: \(what)"
            case .badSignature: "the DPoP proof's signature does not verify with its jwk"
            case .missingClaim(let name): "the DPoP proof has no valid \(name) claim"
            case .method(let expected, let got): "the DPoP proof is for method \(got), this request is \(expected)"
            case .uri(let expected, let got): "the DPoP proof is for \(got), this request is to \(expected)"
            case .tooOld(let seconds): "the DPoP proof was made \(seconds) s ago; make a new one for each request (check the clock)"
            case .inFuture(let seconds): "the DPoP proof's iat is \(seconds) s in the future; check the clock"
            case .nonceMissing: "this server requires a nonce in DPoP proofs; use the DPoP-Nonce header's value"
            case .nonceStale: "the DPoP proof's nonce is unknown or expired; use the DPoP-Nonce header's value"
            case .replayed: "this DPoP proof was used before; make a new one for each request"
            case .accessTokenHashMismatch: "the DPoP proof's ath is not the hash of this access token"
            case .keyMismatch: "the DPoP proof is signed by another key than the one the token is bound to"
            }
        }
    }
}
