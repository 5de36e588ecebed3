import Foundation
import HallpassCore

/// The last `DPoP-Nonce` a server gave (RFC 9449 §8), kept for the next proof.
final class DPoPNonceMemory: @unchecked Sendable {
    private let lock = NSLock()
    private var nonce: String?

    var value: String? {
        get { lock.withLock { nonce } }
        set { lock.withLock { nonce = newValue } }
    }
}

extension DeviceFlowClient {
    /// A token endpoint request: with a DPoP key, signed with a fresh proof (RFC 9449 §5) carrying
    /// the server's last nonce; a `use_dpop_nonce` answer with a new nonce is retried once with
    /// it (§8.1), so a server that turns nonces on costs a client one extra request, not an error.
    func postToken(_ endpoint: URL, form: [String: String]) async throws -> (Int, Data) {
        guard let dpopKey else { return try await transport.postForm(endpoint, fields: form) }
        var reply = HTTPReply(status: 0, body: Data())
        for attempt in 0..<2 {
            let proof = dpopKey.proof(method: "POST", uri: endpoint.absoluteString, nonce: dpopNonces.value, at: Date())
            reply = try await transport.postForm(endpoint, fields: form, headers: ["DPoP": proof])
            let fresh = reply.headers["dpop-nonce"]
            let previous = dpopNonces.value
            if let fresh { dpopNonces.value = fresh }
            guard attempt == 0, reply.status == 400, let fresh, fresh != previous,
                  case .oauth("use_dpop_nonce", _) = DeviceFlowError.fromErrorBody(status: reply.status, body: reply.body)
            else { break }
        }
        return (reply.status, reply.body)
    }

    /// The headers that present `token` to a resource server: `Authorization: Bearer`, or for a
    /// DPoP-bound token `Authorization: DPoP` and a proof for this one request (RFC 9449 §7.1).
    public func authorizationHeaders(for token: TokenResponse, method: String, url: String) -> [(String, String)] {
        guard token.tokenType.lowercased() == "dpop", let dpopKey else {
            return [("Authorization", "Bearer \(token.accessToken)")]
        }
        return [("Authorization", "DPoP \(token.accessToken)"),
                ("DPoP", dpopKey.proof(method: method, uri: url, accessToken: token.accessToken, at: Date()))]
    }
}
