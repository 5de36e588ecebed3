import Foundation

/// The key set an issuer publishes, found the standard way: its RFC 8414 metadata
/// (`/.well-known/oauth-authorization-server`, after the host for an issuer with a path, §3.1)
/// names `jwks_uri`, which is fetched on every call (the verifier decides when to call).
public struct IssuerKeySet: KeySetSource {
    public let issuer: URL

    public init(issuer: URL) {
        self.issuer = issuer
    }

    public enum Failure: Error, CustomStringConvertible {
        case status(URL, Int)
        case noJWKSURI(URL)
        case noIntrospectionEndpoint(URL)
        public var description: String {
            switch self {
            case .status(let url, let code): "\(url) answered HTTP \(code)"
            case .noJWKSURI(let url): "\(url) names no jwks_uri"
            case .noIntrospectionEndpoint(let url): "\(url) names no introspection_endpoint"
            }
        }
    }

    /// RFC 8414 §3.1: the well-known segment goes between the host and the issuer's path.
    public var metadataURL: URL {
        var components = URLComponents(url: issuer, resolvingAgainstBaseURL: false) ?? URLComponents()
        let path = components.path == "/" ? "" : components.path
        components.path = "/.well-known/oauth-authorization-server" + path
        return components.url ?? issuer
    }

    public func keySet() async throws -> Data {
        struct Metadata: Decodable { var jwks_uri: String? }
        let metadata = try JSONDecoder().decode(Metadata.self, from: try await get(metadataURL))
        guard let text = metadata.jwks_uri, let url = URL(string: text) else { throw Failure.noJWKSURI(metadataURL) }
        return try await get(url)
    }

    func get(_ url: URL) async throws -> Data {
        let (status, data) = try await ResourceHTTP.send(url, headers: ["Accept": "application/json"])
        guard status == 200 else { throw Failure.status(url, status) }
        return data
    }
}
