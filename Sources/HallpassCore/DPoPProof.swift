import Crypto
import Foundation

/// A DPoP proof (RFC 9449 §4.2), checked by every rule of §4.3 that needs no memory: what the
/// token endpoint, userinfo and `HallpassResource` each accept. Whether its `jti` was seen before
/// (§11.1) is the caller's to ask of its replay memory, with `replayKey`, after these checks.
public struct DPoPProof: Sendable, Equatable {
    /// RFC 9449 §5.1 `dpop_signing_alg_values_supported`: asymmetric algorithms only. `Ed25519`
    /// is RFC 9864's fully-specified name for what `EdDSA` means here; both are accepted.
    public static let algorithms = ["EdDSA", "Ed25519", "ES256", "PS256", "RS256"]

    public let algorithm: String
    public let key: PublicJWK
    /// RFC 7638 thumbprint of `key`: the `jkt` a token is bound to.
    public let thumbprint: String
    public let jti: String
    public let htm: String
    public let htu: String
    public let iat: Date
    public let ath: String?
    public let nonce: String?
    /// What the signature covers and the signature, checked last (after the cheap checks).
    let signingInput: Data
    let signature: Data

    /// What the request the proof came with was: its method and URI, and the access token it
    /// presents with the DPoP scheme (at a protected resource, RFC 9449 §7.1).
    public struct Context: Sendable {
        public var method: String
        public var uri: String
        public var accessToken: String?
        /// The `cnf.jkt` of that access token.
        public var boundThumbprint: String?

        public init(method: String, uri: String, accessToken: String? = nil, boundThumbprint: String? = nil) {
            (self.method, self.uri, self.accessToken, self.boundThumbprint) = (method, uri, accessToken, boundThumbprint)
        }
    }

    /// How fresh a proof must be (RFC 9449 §4.3 check 11, §11.1): `iat` no older than `maxAge` and
    /// no further ahead than `futureSkew`. A proof with a server nonce the server vouches for is
    /// fresh by the nonce (§8), so a device whose clock is wrong still works where nonces are on.
    public struct Freshness: Sendable {
        public var maxAge: TimeInterval
        public var futureSkew: TimeInterval

        public init(maxAge: TimeInterval = 60, futureSkew: TimeInterval = 10) {
            (self.maxAge, self.futureSkew) = (maxAge, futureSkew)
        }
    }

    /// The proof's `jti`, qualified by its key: what a replay memory keeps until `replayHorizon`.
    public var replayKey: String {
        Base64URL.encode(SHA256.hash(data: Data("hallpass dpop\0\(thumbprint)\0\(jti)".utf8)))
    }

    /// When the proof can no longer be accepted for its age, so a replay memory may forget it:
    /// one second past the last moment `check` would accept it (by `iat`, or by a nonce), and
    /// never further ahead than the window allows, whatever `iat` says.
    public func replayHorizon(_ freshness: Freshness, nonceLifetime: TimeInterval, now: Date) -> Date {
        let byAge = min(iat, now.addingTimeInterval(freshness.futureSkew)).addingTimeInterval(freshness.maxAge)
        let byNonce = nonce == nil ? now : now.addingTimeInterval(nonceLifetime)
        return max(byAge, byNonce).addingTimeInterval(1)
    }

    /// RFC 9449 §7.1 `ath`: base64url of the SHA-256 of the access token's ASCII.
    public static func accessTokenHash(_ token: String) -> String {
        Base64URL.encode(SHA256.hash(data: Data(token.utf8)))
    }

    /// RFC 9449 §4.3: one `DPoP` header field holding one JWT whose header is `typ: dpop+jwt`, an
    /// allowed asymmetric `alg` and a public `jwk`, whose signature verifies with that key, whose
    /// claims name this request's method and URI (without query and fragment), and which is fresh;
    /// with an access token, `ath` matches it and the key is the one it is bound to.
    /// `nonceIsValid` answers whether a `nonce` claim is one the server issued and still honours;
    /// `requireNonce` refuses a proof without one.
    public static func check(
        headers values: [String], context: Context, now: Date, freshness: Freshness = Freshness(),
        requireNonce: Bool = false, nonceIsValid: (String) -> Bool = { _ in false }
    ) throws(Refusal) -> DPoPProof {
        guard let value = values.first else { throw .missing }
        guard values.count == 1 else { throw .severalHeaders }
        let proof = try parse(value, verifyingSignature: false)
        // RFC 9449 §4.3 checks 8 and 9 (cheap, so made before the signature's).
        guard proof.htm == context.method else { throw .method(expected: context.method, got: proof.htm) }
        guard let want = normalizedURI(context.uri), let got = normalizedURI(proof.htu), want == got else {
            throw .uri(expected: normalizedURI(context.uri) ?? context.uri, got: proof.htu)
        }
        // Checks 10 and 11: a server nonce vouches for freshness; without one, `iat` must.
        if let nonce = proof.nonce, nonceIsValid(nonce) {
            // fresh by the nonce
        } else if requireNonce {
            throw proof.nonce == nil ? .nonceMissing : .nonceStale
        } else {
            let age = now.timeIntervalSince(proof.iat)
            if age > freshness.maxAge { throw .tooOld(seconds: Int(clamping: age)) }
            if -age > freshness.futureSkew { throw .inFuture(seconds: Int(clamping: -age)) }
        }
        // Check 6: the signature, with the key the proof carries.
        guard proof.key.isValidSignature(proof.signature, over: proof.signingInput, algorithm: proof.algorithm) else {
            throw .badSignature
        }
        // Check 12 (§7.1): bound to the token it comes with.
        if let token = context.accessToken {
            guard let ath = proof.ath else { throw .missingClaim("ath") }
            guard ath == accessTokenHash(token) else { throw .accessTokenHashMismatch }
            guard let bound = context.boundThumbprint, bound == proof.thumbprint else { throw .keyMismatch }
        }
        return proof
    }

    /// Checks 2 to 7: the JWT, its header, its signature (unless `check` makes that check last)
    /// and its claims' presence and types.
    public static func parse(_ value: String, verifyingSignature: Bool = true) throws(Refusal) -> DPoPProof {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { throw .malformed("a proof is one JWT, three base64url parts separated by '.'") }
        guard let headerBytes = Base64URL.decodeStrict(parts[0]),
              let header = (try? JSONSerialization.jsonObject(with: headerBytes)) as? [String: Any]
        else { throw .malformed("the header is not base64url-encoded JSON") }
        guard let payloadBytes = Base64URL.decodeStrict(parts[1]),
              let payload = try? JSONDecoder().decode(Claims.self, from: payloadBytes)
        else { throw .malformed("the payload is not base64url-encoded JSON claims") }
        guard let typ = header["typ"] as? String, typ.lowercased() == "dpop+jwt" else { throw .wrongType(header["typ"] as? String) }
        // RFC 7515 §4.1.11: no extension is understood here, so a critical one refuses the proof.
        guard header["crit"] == nil else { throw .malformed("the header names critical extensions (crit), which are not supported") }
        let alg = header["alg"] as? String
        guard let alg, algorithms.contains(alg) else { throw .algorithm(alg) }
        guard let jwkJSON = header["jwk"] as? [String: Any] else { throw .missingKey }
        let key: PublicJWK
        do { key = try PublicJWK(json: jwkJSON) } catch {
            switch error {
            case .privateMember(let member): throw .privateKey(member)
            case .unsupported(let what), .invalid(let what): throw .badKey(what)
            }
        }
        guard let signature = Base64URL.decodeStrict(parts[2]), !signature.isEmpty else {
            throw .malformed("the signature is missing or not base64url")
        }
        let signingInput = Data("\(parts[0]).\(parts[1])".utf8)
        if verifyingSignature, !key.isValidSignature(signature, over: signingInput, algorithm: alg) { throw .badSignature }
        guard let jti = payload.jti, !jti.isEmpty else { throw .missingClaim("jti") }
        guard let htm = payload.htm, !htm.isEmpty else { throw .missingClaim("htm") }
        guard let htu = payload.htu, !htu.isEmpty else { throw .missingClaim("htu") }
        guard let iat = payload.iat, iat.isFinite else { throw .missingClaim("iat") }
        guard jti.utf8.count <= 256 else { throw .malformed("jti is longer than 256 bytes") }
        return DPoPProof(algorithm: alg, key: key, thumbprint: key.thumbprint, jti: jti, htm: htm, htu: htu,
                         iat: Date(timeIntervalSince1970: iat), ath: payload.ath, nonce: payload.nonce,
                         signingInput: signingInput, signature: signature)
    }

    /// RFC 9449 §4.2 claims; one of the wrong JSON type counts as missing.
    struct Claims: Decodable {
        var jti, htm, htu, ath, nonce: String?
        var iat: Double?

        enum CodingKeys: String, CodingKey { case jti, htm, htu, ath, nonce, iat }

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            func text(_ key: CodingKeys) -> String? { (try? c.decodeIfPresent(String.self, forKey: key)) ?? nil }
            (jti, htm, htu, ath, nonce) = (text(.jti), text(.htm), text(.htu), text(.ath), text(.nonce))
            iat = (try? c.decodeIfPresent(Double.self, forKey: .iat)) ?? nil
        }
    }

    /// RFC 9449 §4.3 check 9 with RFC 3986 §6.2.2 and §6.2.3: scheme and host in lower case, the
    /// default port dropped, an empty path as `/`, percent-encodings in upper case and unreserved
    /// characters decoded; query and fragment ignored. Nil for anything but an absolute http(s) URI.
    public static func normalizedURI(_ text: String) -> String? {
        guard let parts = URLComponents(string: text), let scheme = parts.scheme?.lowercased(),
              scheme == "https" || scheme == "http", let host = parts.percentEncodedHost?.lowercased(), !host.isEmpty,
              parts.user == nil, parts.password == nil
        else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = parts.port.flatMap { $0 == defaultPort ? nil : ":\($0)" } ?? ""
        let path = normalizedPercentEncoding(parts.percentEncodedPath)
        return "\(scheme)://\(host)\(port)\(path.isEmpty ? "/" : path)"
    }

    static func normalizedPercentEncoding(_ path: String) -> String {
        var out = ""
        var bytes = Array(path.utf8)[...]
        while let byte = bytes.first {
            bytes = bytes.dropFirst()
            guard byte == UInt8(ascii: "%"), bytes.count >= 2,
                  let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16)
            else { out.unicodeScalars.append(Unicode.Scalar(byte)); continue }
            bytes = bytes.dropFirst(2)
            let scalar = Unicode.Scalar(value)
            let unreserved = ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar)
                || ("0"..."9").contains(scalar) || "-._~".unicodeScalars.contains(scalar)
            out += unreserved ? String(scalar) : String(format: "%%%02X", value)
        }
        return out
    }
}

extension Int {
    /// The nearest `Int` to a finite or infinite `Double`, NaN as 0: for durations computed from
    /// times a stranger wrote (`iat: 1e300` must be refused, not trap).
    public init(clamping value: Double) {
        if value.isNaN { self = 0 }
        else if value >= Double(Int.max) { self = .max }
        else if value <= Double(Int.min) { self = .min }
        else { self = Int(value) }
    }
}
