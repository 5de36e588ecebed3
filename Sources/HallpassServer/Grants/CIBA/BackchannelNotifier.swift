import Foundation
import HallpassCore
import HallpassStore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where ping and push deliveries go out (CIBA Core §10.2–10.3). `serve` uses URLSession; tests
/// record the calls.
public protocol BackchannelTransport: Sendable {
    /// POSTs `json` to `url` with `Authorization: Bearer token`; the HTTP status.
    func post(_ url: String, json: Data, bearer: String) async throws -> Int
}

public struct URLSessionBackchannelTransport: BackchannelTransport {
    public init() {}

    public func post(_ url: String, json: Data, bearer: String) async throws -> Int {
        guard let target = URL(string: url) else { throw URLError(.badURL) }
        var request = URLRequest(url: target, timeoutInterval: 5)
        request.httpMethod = "POST"
        request.httpBody = json
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization")
        let (_, response) = try await URLSession.shared.data(for: request)
        return (response as? HTTPURLResponse)?.statusCode ?? 0
    }
}

/// After a backchannel request of a ping- or push-mode client is decided or has expired
/// (ARCHITECTURE.md §4.9): ping sends `{"auth_req_id"}` (§10.2); push mints the tokens (the ID
/// token carrying `at_hash`, the auth_req_id claim and `rt_hash`), redeems the request and sends
/// the token response with `auth_req_id` (§10.3.1), or the error payload of
/// §12: `access_denied`, or `expired_token` when nobody decided in time (optional for the OP, and
/// a ping on expiry is allowed too: without either, a client that does not poll waits on its own
/// clock). The client's `client_notification_token` is the bearer. Tried three times, a second
/// apart; each outcome audited.
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
        if client.backchannelMode == .push {
            switch grant.status {
            case .approved:
                let now = clock.now
                do {
                    let minted = try await minter.mint(approved: grant, client: client, users: users, at: now,
                                                       pushedFor: note.authRequestID)
                    guard case .redeemed = try await grants.redeem(grantID: grantID, tokens: minted.record, at: now) else { return }
                    let token = try JSONSerialization.jsonObject(with: JSONEncoder().encode(minted.body)) as? [String: Any] ?? [:]
                    payload.merge(token) { own, _ in own }
                    audit.record("token_issued", outcome: "ok", actor: grant.userID.map(String.init), client: client.id,
                                 grant: minted.record.family.id, detail: "ciba push, grant \(grantID); scope \(minted.record.scopes)")
                } catch {
                    payload["error"] = "transaction_failed"
                    payload["error_description"] = "the tokens could not be issued"
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
        audit.record("backchannel_notification", outcome: "failed", client: client.id, grant: String(grantID),
                     detail: "\(client.backchannelMode.rawValue) to the notification endpoint, 3 attempts")
    }
}
