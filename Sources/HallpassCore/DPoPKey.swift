import Crypto
import Foundation

/// A client's DPoP key (RFC 9449 §2): the private half it keeps on the device (as a private JWK,
/// RFC 7517, in a 0600 file) and the proofs it signs with it (§4.2), one per request.
public struct DPoPKey: Sendable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case eddsa = "EdDSA"
        case es256 = "ES256"
    }

    enum Secret: Sendable {
        case ed25519(Curve25519.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
    }

    let secret: Secret

    public static func generate(_ algorithm: Algorithm = .eddsa) -> DPoPKey {
        switch algorithm {
        case .eddsa: DPoPKey(secret: .ed25519(Curve25519.Signing.PrivateKey()))
        case .es256: DPoPKey(secret: .p256(P256.Signing.PrivateKey()))
        }
    }

    public var algorithm: Algorithm {
        switch secret {
        case .ed25519: .eddsa
        case .p256: .es256
        }
    }

    public var publicJWK: PublicJWK {
        switch secret {
        case .ed25519(let key): .ed25519(x: key.publicKey.rawRepresentation)
        case .p256(let key):
            .p256(x: key.publicKey.rawRepresentation.prefix(32), y: key.publicKey.rawRepresentation.suffix(32))
        }
    }

    /// The `jkt` tokens bound to this key carry (RFC 9449 §6.1).
    public var thumbprint: String { publicJWK.thumbprint }

    /// A proof for one request: `method` and `uri` (query and fragment are dropped, §4.2), the
    /// access token it will carry (`ath`), and the server's last `DPoP-Nonce`, if it gave one.
    public func proof(method: String, uri: String, accessToken: String? = nil, nonce: String? = nil,
                      at now: Date, random: any RandomSource = SystemRandomSource()) -> String {
        var htu = uri
        if let cut = htu.firstIndex(where: { $0 == "?" || $0 == "#" }) { htu = String(htu[..<cut]) }
        var header: [String: Any] = ["typ": "dpop+jwt", "alg": algorithm.rawValue]
        header["jwk"] = publicJWK.members
        var claims: [String: Any] = ["jti": Base64URL.encode(random.bytes(16)), "htm": method, "htu": htu,
                                     "iat": Int(now.timeIntervalSince1970)]
        claims["ath"] = accessToken.map(DPoPProof.accessTokenHash)
        claims["nonce"] = nonce
        let input = Self.segment(header) + "." + Self.segment(claims)
        return input + "." + Base64URL.encode(sign(Data(input.utf8)))
    }

    func sign(_ input: Data) -> Data {
        switch secret {
        case .ed25519(let key): (try? key.signature(for: input)) ?? Data()
        case .p256(let key): (try? key.signature(for: input).rawRepresentation) ?? Data()
        }
    }

    static func segment(_ object: [String: Any]) -> String {
        Base64URL.encode((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }

    // MARK: - The key file

    /// The private JWK, as the key file holds it.
    public var fileContents: Data {
        var members = publicJWK.members
        switch secret {
        case .ed25519(let key): members["d"] = Base64URL.encode(key.rawRepresentation)
        case .p256(let key): members["d"] = Base64URL.encode(key.rawRepresentation)
        }
        return (try? JSONSerialization.data(withJSONObject: members, options: [.sortedKeys])) ?? Data()
    }

    public struct UnreadableKey: Error, CustomStringConvertible {
        public var description: String { "the DPoP key file is not an Ed25519 or P-256 private JWK" }
    }

    public init(fileContents data: Data) throws {
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let d = (json["d"] as? String).flatMap(Base64URL.decodeStrict)
        else { throw UnreadableKey() }
        switch (json["kty"] as? String, json["crv"] as? String) {
        case ("OKP", "Ed25519"):
            guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: d) else { throw UnreadableKey() }
            secret = .ed25519(key)
        case ("EC", "P-256"):
            guard let key = try? P256.Signing.PrivateKey(rawRepresentation: d) else { throw UnreadableKey() }
            secret = .p256(key)
        default:
            throw UnreadableKey()
        }
    }

    init(secret: Secret) { self.secret = secret }
}
