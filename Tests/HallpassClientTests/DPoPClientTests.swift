import Foundation
import HallpassClient
import HallpassCore
import Synchronization
import Testing

/// The client side of DPoP (RFC 9449 §5, §8): a fresh proof on every token request, the server's
/// nonce learned from `use_dpop_nonce` and used from then on, and the headers for a resource.
@Suite struct DPoPClientTests {
    /// A token endpoint that asks for a nonce once, then answers pending and a token, and
    /// records every DPoP header it got.
    final class NonceServer: HTTPTransport {
        let proofs = Mutex<[String]>([])
        let replies = Mutex<[(Int, String, String?)]>([
            (400, #"{"error":"use_dpop_nonce"}"#, "n1"),
            (400, #"{"error":"authorization_pending"}"#, "n2"),
            (200, #"{"access_token":"at","token_type":"DPoP","expires_in":3600}"#, "n3"),
        ])

        func get(_ url: URL) async throws -> (Int, Data) {
            (200, Data(#"{"issuer":"http://s","device_authorization_endpoint":"http://s/da","token_endpoint":"http://s/token"}"#.utf8))
        }

        func postForm(_ url: URL, fields: [String: String]) async throws -> (Int, Data) {
            (200, Data(#"{"device_code":"dc","user_code":"BCDF-GHJK","verification_uri":"http://s/device","expires_in":600,"interval":5}"#.utf8))
        }

        func postForm(_ url: URL, fields: [String: String], headers: [String: String]) async throws -> HTTPReply {
            proofs.withLock { $0.append(headers["DPoP"] ?? "") }
            let next = replies.withLock { $0.removeFirst() }
            return HTTPReply(status: next.0, body: Data(next.1.utf8), headers: next.2.map { ["dpop-nonce": $0] } ?? [:])
        }

        func postJSON(_ url: URL, body: Data, bearer: String?) async throws -> (Int, Data) { (404, Data()) }
    }

    @Test func everyTokenRequestCarriesAFreshProofAndTheLatestNonce() async throws {
        let server = NonceServer()
        let key = DPoPKey.generate()
        let flow = DeviceFlowClient(server: URL(string: "http://s")!, clientID: "tv", dpopKey: key, transport: server,
                                    sleep: { _ in })
        let codes = try await flow.authorize(scope: "read")
        let token = try await flow.waitForToken(codes)
        #expect(token.accessToken == "at" && token.tokenType == "DPoP")
        let proofs = try server.proofs.withLock { $0 }.map { try DPoPProof.parse($0) }
        #expect(proofs.count == 3)
        #expect(proofs.map(\.nonce) == [nil, "n1", "n2"])    // retried at once with n1, then the pending answer's n2
        #expect(Set(proofs.map(\.jti)).count == 3 && proofs.allSatisfy { $0.htu == "http://s/token" && $0.htm == "POST" })
        #expect(proofs.allSatisfy { $0.thumbprint == key.thumbprint })

        let headers = flow.authorizationHeaders(for: token, method: "GET", url: "https://api.example/notes?x=1")
        #expect(headers.map(\.0) == ["Authorization", "DPoP"] && headers[0].1 == "DPoP at")
        let proof = try DPoPProof.check(headers: [headers[1].1], context: DPoPProof.Context(
            method: "GET", uri: "https://api.example/notes", accessToken: "at", boundThumbprint: key.thumbprint), now: Date())
        #expect(proof.ath == DPoPProof.accessTokenHash("at"))
    }

    @Test func aBearerTokenGetsABearerHeader() {
        let flow = DeviceFlowClient(server: URL(string: "http://s")!, clientID: "tv")
        let token = TokenResponse(json: Data(#"{"access_token":"at","token_type":"Bearer"}"#.utf8))!
        #expect(flow.authorizationHeaders(for: token, method: "GET", url: "https://api.example/").map(\.1) == ["Bearer at"])
    }
}
