import Foundation
import HallpassCore

/// The device side as a credential helper (issue 16): a currently valid access token from the
/// saved token file, refreshed first when it expires within `minValid`, the rotated refresh
/// token saved atomically. Every process holding the same file takes turns on its lock, so
/// twenty scripts calling at once make one refresh, never a reuse that revokes the family.
public struct TokenKeeper: Sendable {
    public let client: DeviceFlowClient
    public let path: String
    public let minValid: TimeInterval
    let now: @Sendable () -> Date

    public init(client: DeviceFlowClient, path: String, minValid: TimeInterval = 60, now: @escaping @Sendable () -> Date = { Date() }) {
        self.client = client
        self.path = path
        self.minValid = minValid
        self.now = now
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case noTokenFile(String)
        case unreadable(String)
        case cannotRefresh(String)
        case missingKey(String)
        public var description: String {
            switch self {
            case .noTokenFile(let path): "no saved token at \(path): sign in first (hallpass login --client-id …)"
            case .unreadable(let path): "\(path) does not hold a token response"
            case .cannotRefresh(let why): "the token expires and cannot be refreshed: \(why); sign in again (hallpass login)"
            case .missingKey(let path): "the token is DPoP-bound but its key \(path) is gone; sign in again (hallpass login --dpop)"
            }
        }
    }

    /// What a call did, for callers that care (tests, `--verbose`).
    public enum Outcome: Equatable, Sendable { case reused, refreshed }

    /// A valid access token, refreshed first when needed.
    public func accessToken() async throws -> (token: String, outcome: Outcome) {
        let (token, outcome) = try await currentToken()
        return (token.accessToken, outcome)
    }

    /// The headers for one request to a resource server with a valid token: Bearer, or DPoP with a
    /// proof for `method` and `url` signed by the key beside the token file (RFC 9449 §7.1).
    public func authorizationHeaders(method: String, url: String) async throws -> [(String, String)] {
        let (token, _) = try await currentToken()
        if token.tokenType.lowercased() == "dpop", client.dpopKey == nil { throw Failure.missingKey(TokenFile.dpopKeyPath(for: path)) }
        return client.authorizationHeaders(for: token, method: method, url: url)
    }

    /// The saved token response, refreshed first when its access token expires within `minValid`.
    public func currentToken() async throws -> (TokenResponse, Outcome) {
        try await TokenFile.withLock(path) {
            let saved = try load()
            if let expiry = Self.expiry(of: saved.accessToken), expiry.timeIntervalSince(now()) > minValid {
                return (saved, .reused)
            }
            guard let refreshToken = saved.refreshToken else { throw Failure.cannotRefresh("no refresh token was issued") }
            let fresh: TokenResponse
            do {
                fresh = try await client.refresh(refreshToken)
            } catch {
                throw Failure.cannotRefresh("\(error)")
            }
            try TokenFile.save(fresh.raw, to: path)
            return (fresh, .refreshed)
        }
    }

    /// RFC 7009: revokes the refresh token (and with it the grant's tokens), then deletes the file.
    public func logout() async throws {
        try await TokenFile.withLock(path) {
            let saved = try load()
            try await client.revoke(saved.refreshToken ?? saved.accessToken,
                                    hint: saved.refreshToken == nil ? "access_token" : "refresh_token")
            if unlink(path) != 0 && errno != ENOENT { throw TokenFile.Failure(path, "delete") }
            try TokenFile.removeDPoPKey(besideTokenFile: path)
        }
    }

    func load() throws -> TokenResponse {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure.noTokenFile(path) }
        guard let token = TokenResponse(json: data) else { throw Failure.unreadable(path) }
        return token
    }

    /// The `exp` of a JWT access token (read, not verified: the client only decides when to
    /// refresh); nil for anything else, which is then refreshed.
    static func expiry(of token: String) -> Date? {
        (unverifiedClaims(of: token)?["exp"] as? Double).map(Date.init(timeIntervalSince1970:))
    }

    /// A JWT's claims as sent, unverified: for a client deciding what to do with its own token
    /// (when to refresh, which client it belongs to), never for trusting one.
    public static func unverifiedClaims(of token: String) -> [String: Any]? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(String(parts[1])) else { return nil }
        return try? JSONSerialization.jsonObject(with: payload) as? [String: Any]
    }
}

extension DeviceFlowClient {
    /// RFC 6749 §6: a new token response for `refreshToken` (Hallpass rotates it).
    public func refresh(_ refreshToken: String) async throws -> TokenResponse {
        let metadata = try await metadata()
        guard let endpoint = metadata.token_endpoint.flatMap(URL.init(string:)) else {
            throw DeviceFlowError.badResponse("the server's metadata names no token_endpoint")
        }
        var form = ["grant_type": "refresh_token", "refresh_token": refreshToken, "client_id": clientID]
        if let clientSecret { form["client_secret"] = clientSecret }
        let (status, body) = try await postToken(endpoint, form: form)
        guard status == 200 else { throw DeviceFlowError.fromErrorBody(status: status, body: body) }
        guard let token = TokenResponse(json: body) else { throw DeviceFlowError.badResponse("the token response is not JSON with access_token") }
        return token
    }

    /// RFC 7009 §2.1 (always 200 for a token the server does not know).
    public func revoke(_ token: String, hint: String) async throws {
        let metadata = try await metadata()
        guard let endpoint = metadata.revocation_endpoint.flatMap(URL.init(string:)) else {
            throw DeviceFlowError.badResponse("the server's metadata names no revocation_endpoint")
        }
        var form = ["token": token, "token_type_hint": hint, "client_id": clientID]
        if let clientSecret { form["client_secret"] = clientSecret }
        let (status, body) = try await transport.postForm(endpoint, fields: form)
        guard status == 200 else { throw DeviceFlowError.fromErrorBody(status: status, body: body) }
    }
}
