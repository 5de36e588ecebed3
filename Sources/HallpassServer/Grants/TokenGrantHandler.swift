import Foundation
import HallpassCore
import Hummingbird

/// A token request the endpoint has already read and authenticated (RFC 6749 §3.2): the form,
/// the authenticated client (allowed this `grant_type`), the client's address, and the time
/// the request is judged at (read once, from the server's clock).
struct TokenGrantRequest: Sendable {
    let form: FormBody
    let client: OAuthClient
    let peer: String
    let now: Date
    /// The request's DPoP proof, checked (RFC 9449 §5): the tokens are bound to its key.
    var dpop: DPoPProof? = nil
}

/// One grant at the token endpoint (RFC 6749 §4, §6; RFC 8628 §3.4): what turns its
/// credential into tokens. Each lives in its own folder under `Grants/` and holds only the
/// storage protocols and services it uses; `TokenGrantRegistry` maps `grant_type` to it.
protocol TokenGrantHandler: Sendable {
    /// The `grant_type` value it answers.
    var grantType: OAuthClient.GrantType { get }
    /// A token response, or an `OAuthError` (RFC 6749 §5.2).
    func exchange(_ request: TokenGrantRequest) async throws -> Response
}

/// The grants the token endpoint serves, by `grant_type`. Adding a grant is a folder with its
/// handler plus one line where the application is composed (`buildRouter`).
struct TokenGrantRegistry: Sendable {
    private let handlers: [String: any TokenGrantHandler]
    /// In registration order, for `grant_types_supported` (RFC 8414 §2).
    let grantTypes: [String]

    init(_ handlers: [any TokenGrantHandler]) {
        self.handlers = Dictionary(handlers.map { ($0.grantType.rawValue, $0) }, uniquingKeysWith: { first, _ in first })
        self.grantTypes = handlers.map(\.grantType.rawValue)
    }

    func handler(for grantType: String) -> (any TokenGrantHandler)? { handlers[grantType] }
}
