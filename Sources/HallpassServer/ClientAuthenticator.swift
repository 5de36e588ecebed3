import Foundation
import HallpassCore
import HallpassStore
import Hummingbird
import Prometheus

/// Client authentication at the token, revocation and introspection endpoints
/// (RFC 6749 §2.3): `client_secret_basic`, `client_secret_post`, or `none` for public clients.
struct ClientAuthenticator: Sendable {
    let clients: any ClientStore
    let cache: ClientCache
    let verifiedSecrets: VerifiedSecretCache
    let clock: any WallClock
    /// `hallpass_client_secret_checks_total` by kind.
    let checks: [String: Counter]

    func authenticate(_ request: Request, form: FormBody) async throws -> OAuthClient {
        var basic: (id: String, secret: String)?
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "basic" else {
                throw OAuthError(.invalidClient, "unsupported Authorization scheme")
            }
            basic = try decodeBasic(String(parts[1]))
        }
        if let basic {
            // RFC 6749 §2.3: a client must not use more than one authentication method.
            if form["client_secret"] != nil {
                throw OAuthError(.invalidRequest, "use either HTTP Basic or client_secret, not both")
            }
            if let formID = form["client_id"], formID != basic.id {
                throw OAuthError(.invalidRequest, "client_id does not match the Authorization header")
            }
            return try await verify(id: basic.id, secret: basic.secret)
        }
        guard let id = form["client_id"] else {
            throw OAuthError(.invalidClient, "client authentication required (client_id)")
        }
        if let secret = form["client_secret"] {
            return try await verify(id: id, secret: secret)
        }
        guard let client = try await cache.client(id: id, store: clients, now: clock.now) else {
            throw OAuthError(.invalidClient, "unknown client")
        }
        guard client.isPublic else {
            throw OAuthError(.invalidClient, "this client must authenticate with its secret")
        }
        return client
    }

    /// A correct secret seen in the last minute is let through without hashing
    /// (`VerifiedSecretCache`); otherwise generated secrets are checked by their fast keyed hash
    /// and chosen ones by Argon2id (`ClientSecret`). Every failure costs one Argon2id
    /// verification, like an unknown client id.
    private func verify(id: String, secret: String) async throws -> OAuthClient {
        let now = clock.now
        let client = try await cache.client(id: id, store: clients, now: now)
        if let client, !client.isPublic, let stored = client.secretHash {
            if verifiedSecrets.contains(id: id, secret: secret, stored: stored, now: now) {
                checks["cached"]?.increment()
                return client
            }
            let generated = ClientSecret.isGenerated(stored)
            checks[generated ? "hmac" : "argon2id"]?.increment()
            if await ClientSecret.matches(secret, stored: stored, clientID: id) {
                verifiedSecrets.insert(id: id, secret: secret, stored: stored, now: now)
                return client
            }
            if generated {
                checks["argon2id"]?.increment()
                _ = await PasswordHasher.verifyOnThreadPool(secret, hash: PasswordHasher.decoy)
            }
        } else {
            checks["argon2id"]?.increment()
            _ = await PasswordHasher.verifyOnThreadPool(secret, hash: PasswordHasher.decoy)
        }
        // A 401 with the Basic challenge, however the client authenticated (`defaultChallenge`).
        throw OAuthError(.invalidClient, "client authentication failed")
    }

    /// RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
    private func decodeBasic(_ value: String) throws -> (String, String) {
        guard let data = Data(base64Encoded: value.trimmingCharacters(in: .whitespaces)),
              let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":")
        else { throw OAuthError(.invalidClient, "malformed Basic credentials") }
        let decode = { (part: Substring) -> String? in
            part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
        }
        guard let id = decode(text[..<colon]), let secret = decode(text[text.index(after: colon)...]), !id.isEmpty else {
            throw OAuthError(.invalidClient, "malformed Basic credentials")
        }
        return (id, secret)
    }
}
