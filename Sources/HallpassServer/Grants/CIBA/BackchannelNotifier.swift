import AsyncHTTPClient
import Foundation
import HallpassCore
import HallpassStore
import NIOCore

/// Where ping and push deliveries go out (CIBA Core §10.2–10.3). `serve` uses
/// `HTTPClientBackchannelTransport`; tests record the calls.
public protocol BackchannelTransport: Sendable {
    /// POSTs `json` to `url` with `Authorization: Bearer token`; the HTTP status.
    func post(_ url: String, json: Data, bearer: String) async throws -> Int
}

/// AsyncHTTPClient on NIO. §10.2: "The OP MUST NOT follow redirects": a 3xx is the answer (a
/// failed delivery), so tokens never travel past the endpoint the client registered.
public struct HTTPClientBackchannelTransport: BackchannelTransport {
    /// One client for the process, never shut down (it lives as long as the server).
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(5), read: .seconds(5)))
        configuration.connectionPool.retryConnectionEstablishment = false   // the notifier's own three tries
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public init() {}

    public func post(_ url: String, json: Data, bearer: String) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
        request.body = .bytes(ByteBuffer(bytes: json))
        let response = try await Self.client.execute(request, timeout: .seconds(5))
        _ = try? await response.body.collect(upTo: 64 * 1024)   // read to the end so the connection can be reused
        return Int(response.status.code)
    }
}

/// After a backchannel request of a ping- or push-mode client is decided or has expired
/// (ARCHITECTURE.md §4.9): ping sends `{"auth_req_id"}` (§10.2); push mints the tokens (the ID
/// token carrying `at_hash`, the auth_req_id claim and `rt_hash`), redeems the request and sends
/// the token response with `auth_req_id` (§10.3.1), or the error payload of
/// §12: `access_denied`, or `expired_token` when nobody decided in time (optional for the OP, and
/// a ping on expiry is allowed too: without either, a client that does not poll waits on its own
/// clock). A push whose tokens cannot be issued or redeemed (an account disabled meanwhile, say)
/// says `transaction_failed` with the reason. The client's `client_notification_token` is the bearer. Tried three times,
/// a second apart; each outcome audited; pushed tokens that never arrived are revoked.
struct BackchannelNotifier: Sendable {
    let clients: any ClientStore
    let grants: any GrantStore
    let users: any UserStore
    let minter: TokenMinter
    let transport: any BackchannelTransport
    let clock: any WallClock
    var audit: AuditTrail = .disabled

    /// `grant` was approved, denied or has expired (its `status` says which).
    func decided(_ grant: DeviceGrant) async {
        guard grant.backchannel, let note = grant.notification, let grantID = grant.id,
              let client = try? await clients.client(id: grant.clientID), client.backchannelMode != .poll,
              let endpoint = client.backchannelNotificationEndpoint
        else { return }
        var payload: [String: Any] = ["auth_req_id": note.authRequestID]
        var pushedTokens = false
        if client.backchannelMode == .push {
            switch grant.status {
            case .approved:
                let now = clock.now
                do {
                    let minted = try await minter.mint(approved: grant, client: client, users: users, at: now,
                                                       pushedFor: note.authRequestID)
                    switch try await grants.redeem(grantID: grantID, tokens: minted.record, at: now) {
                    case .redeemed:
                        let token = try JSONSerialization.jsonObject(with: JSONEncoder().encode(minted.body)) as? [String: Any] ?? [:]
                        payload.merge(token) { own, _ in own }
                        pushedTokens = true
                        audit.record("token_issued", outcome: "ok", actor: grant.userID.map(String.init), client: client.id,
                                     grant: minted.record.family.id, detail: "ciba push, grant \(grantID); scope \(minted.record.scopes)")
                    case .accountDisabled:
                        payload["error"] = "transaction_failed"
                        payload["error_description"] = "the approving account is disabled"
                    case .notRedeemable:
                        payload["error"] = "transaction_failed"
                        payload["error_description"] = "the approved request could not be redeemed"
                    }
                } catch {
                    // OAuthError's own words (an account gone or disabled, a grant at its end); nothing internal.
                    payload["error"] = "transaction_failed"
                    payload["error_description"] = (error as? OAuthError)?.errorDescription ?? "the tokens could not be issued"
                }
            case .expired:
                payload["error"] = "expired_token"
                payload["error_description"] = "nobody decided the request before it expired; make a new one"
            default:
                payload["error"] = "access_denied"
                payload["error_description"] = "the user denied the request"
            }
        }
        guard let body = try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys]) else { return }
        for attempt in 1...3 {
            if let status = try? await transport.post(endpoint, json: body, bearer: note.clientToken), (200..<300).contains(status) {
                audit.record("backchannel_notification", outcome: "ok", client: client.id, grant: String(grantID),
                             detail: "\(client.backchannelMode.rawValue) (\(grant.status.rawValue)), attempt \(attempt)")
                return
            }
            if attempt < 3 { try? await Task.sleep(for: .seconds(1)) }
        }
        // Tokens nobody received are revoked rather than left valid somewhere in between.
        if pushedTokens { try? await grants.revokeTokens(grantID: grantID, at: clock.now) }
        audit.record("backchannel_notification", outcome: "failed", client: client.id, grant: String(grantID),
                     detail: "\(client.backchannelMode.rawValue) to the notification endpoint, 3 attempts"
                        + (pushedTokens ? "; the pushed tokens are revoked" : ""))
    }
}
