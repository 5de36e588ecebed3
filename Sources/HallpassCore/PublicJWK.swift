import Crypto
import Foundation
import _CryptoExtras

/// A public key as a DPoP proof carries it in its header (RFC 7517), limited to the key types
/// whose signature algorithms Hallpass accepts (`DPoPProof.algorithms`). A JWK that holds any
/// private member is refused outright (RFC 9449 §4.3 check 7): a client that sends its private
/// key has lost it.
public enum PublicJWK: Sendable, Equatable {
    case ed25519(x: Data)
    case p256(x: Data, y: Data)
    case rsa(n: Data, e: Data)

    /// Why a `jwk` header is not a usable public key.
    public enum Refusal: Error, Equatable, Sendable {
        case privateMember(String)
        case unsupported(String)
        case invalid(String)
    }

    /// RFC 7518 §6.2.2, §6.3.2, §6.4 and RFC 8037 §2 private members.
    static let privateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"]

    public init(json: [String: Any]) throws(Refusal) {
        if let member = Self.privateMembers.first(where: { json[$0] != nil }) { throw .privateMember(member) }
        func bytes(_ name: String) throws(Refusal) -> Data {
            guard let text = json[name] as? String, let data = Base64URL.decodeStrict(text), !data.isEmpty else {
                throw .invalid("member \(name) is missing or not base64url")
            }
            return data
        }
        let kty = json["kty"] as? String
        switch (kty, json["crv"] as? String) {
        case ("OKP", "Ed25519"):
            let x = try bytes("x")
            guard x.count == 32 else { throw .invalid("an Ed25519 key has 32 bytes") }
            self = .ed25519(x: x)
        case ("EC", "P-256"):
            let x = try bytes("x"), y = try bytes("y")
            guard x.count == 32, y.count == 32, (try? P256.Signing.PublicKey(rawRepresentation: x + y)) != nil else {
                throw .invalid("not a point on P-256")
            }
            self = .p256(x: x, y: y)
        case ("RSA", _):
            let n = try bytes("n"), e = try bytes("e")
            // RFC 7518 §3.3: 2048 bits at least; 8192 at most here, which bounds the work a
            // stranger's key can ask of a verification.
            let bytes = n.drop(while: { $0 == 0 }).count
            guard bytes >= 256 else { throw .invalid("an RSA key needs 2048 bits at least") }
            guard bytes <= 1024, e.drop(while: { $0 == 0 }).count <= 8 else { throw .invalid("an RSA key of over 8192 bits is not accepted") }
            self = .rsa(n: n, e: e)
        default:
            throw .unsupported("kty \(kty ?? "(none)") crv \(json["crv"] as? String ?? "(none)")")
        }
    }

    /// The algorithms this key may sign with.
    public var algorithms: Set<String> {
        switch self {
        case .ed25519: ["EdDSA", "Ed25519"]
        case .p256: ["ES256"]
        case .rsa: ["RS256", "PS256"]
        }
    }

    /// RFC 7638 §3: SHA-256 over the required members, in lexicographic order, without
    /// whitespace; base64url. This is the `jkt` of RFC 9449 §6.1.
    public var thumbprint: String {
        let canonical: String = switch self {
        case .ed25519(let x): #"{"crv":"Ed25519","kty":"OKP","x":"\#(Base64URL.encode(x))"}"#
        case .p256(let x, let y): #"{"crv":"P-256","kty":"EC","x":"\#(Base64URL.encode(x))","y":"\#(Base64URL.encode(y))"}"#
        case .rsa(let n, let e): #"{"e":"\#(Base64URL.encode(e))","kty":"RSA","n":"\#(Base64URL.encode(n))"}"#
        }
        return Base64URL.encode(SHA256.hash(data: Data(canonical.utf8)))
    }

    /// The JWK's JSON members, as a client puts them in a proof's header.
    public var members: [String: String] {
        switch self {
        case .ed25519(let x): ["kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(x)]
        case .p256(let x, let y): ["kty": "EC", "crv": "P-256", "x": Base64URL.encode(x), "y": Base64URL.encode(y)]
        case .rsa(let n, let e): ["kty": "RSA", "n": Base64URL.encode(n), "e": Base64URL.encode(e)]
        }
    }

    /// RFC 7515 §5.2 with RFC 7518 §3.3 (RS256), §3.4 (ES256: R and S, 32 bytes each), §3.5
    /// (PS256) and RFC 8037 §3.1 (EdDSA).
    public func isValidSignature(_ signature: Data, over signingInput: Data, algorithm: String) -> Bool {
        guard algorithms.contains(algorithm) else { return false }
        switch self {
        case .ed25519(let x):
            guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: x) else { return false }
            return key.isValidSignature(signature, for: signingInput)
        case .p256(let x, let y):
            guard signature.count == 64, let key = try? P256.Signing.PublicKey(rawRepresentation: x + y),
                  let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
            else { return false }
            return key.isValidSignature(ecdsa, for: signingInput)
        case .rsa(let n, let e):
            guard let key = try? _RSA.Signing.PublicKey(n: n, e: e) else { return false }
            let padding: _RSA.Signing.Padding = algorithm == "PS256" ? .PSS : .insecurePKCS1v1_5
            return key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature),
                                        for: SHA256.hash(data: signingInput), padding: padding)
        }
    }
}

extension Base64URL {
    /// RFC 7515 §2 base64url without padding, and nothing else: no `+`, `/`, `=` or whitespace.
    public static func decodeStrict(_ text: String) -> Data? {
        guard text.utf8.allSatisfy({ byte in
            (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x5F
        }), text.utf8.count % 4 != 1 else { return nil }
        return decode(text)
    }
}
