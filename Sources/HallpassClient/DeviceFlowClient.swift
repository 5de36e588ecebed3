import Foundation
import HallpassCore

/// The device side of RFC 8628: ask for codes, then poll the token endpoint honouring
/// `interval` and `slow_down` (§3.5) until the person decides or the code expires.
///
/// ```swift
/// let client = DeviceFlowClient(server: URL(string: "http://127.0.0.1:8080")!, clientID: "demo-device")
/// let codes = try await client.authorize(scope: "openid read")
/// print("Enter \(codes.userCode) at \(codes.verificationURI)")
/// let token = try await client.waitForToken(codes)
/// ```
public struct DeviceFlowClient: Sendable {
    public let server: URL
    public let clientID: String
    public let clientSecret: String?
    /// With a key, every token request carries a DPoP proof and the tokens are bound to it (RFC 9449).
    public let dpopKey: DPoPKey?
    let dpopNonces = DPoPNonceMemory()
    let transport: any HTTPTransport
    let sleep: @Sendable (TimeInterval) async throws -> Void

    public init(server: URL, clientID: String, clientSecret: String? = nil, dpopKey: DPoPKey? = nil,
                transport: any HTTPTransport = HTTPClientTransport(),
                sleep: @escaping @Sendable (TimeInterval) async throws -> Void = { try await Task.sleep(for: .seconds($0)) }) {
        self.server = server
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.dpopKey = dpopKey
        self.transport = transport
        self.sleep = sleep
    }

    /// RFC 8414 metadata of the server (endpoints are read from it, not guessed).
    public func metadata() async throws -> ServerMetadata {
        let url = server.appendingPathComponent(".well-known/oauth-authorization-server")
        let (status, body) = try await transport.get(url)
        guard status == 200, let metadata = try? JSONDecoder().decode(ServerMetadata.self, from: body) else {
            throw DeviceFlowError.badResponse("no authorization server metadata at \(url.absoluteString) (HTTP \(status))")
        }
        return metadata
    }

    /// RFC 8628 §3.1–3.2.
    /// `loginHint`: the user who will approve (BCP 247 authenticate-then-initiate); only they can.
    public func authorize(scope: String?, loginHint: String? = nil) async throws -> DeviceAuthorization {
        let metadata = try await metadata()
        guard let endpoint = metadata.device_authorization_endpoint.flatMap(URL.init(string:)) else {
            throw DeviceFlowError.badResponse("the server does not advertise a device authorization endpoint")
        }
        var form = credentials()
        if let scope { form["scope"] = scope }
        if let loginHint { form["login_hint"] = loginHint }
        let (status, body) = try await transport.postForm(endpoint, fields: form)
        guard status == 200 else { throw DeviceFlowError.fromErrorBody(status: status, body: body) }
        guard var codes = try? JSONDecoder().decode(DeviceAuthorization.self, from: body) else {
            throw DeviceFlowError.badResponse("malformed device authorization response")
        }
        codes.tokenEndpoint = metadata.token_endpoint
        codes.sshConsent = metadata.consent_ssh_uri.flatMap(SSHConsentAddress.init(uri:))
        return codes
    }

    /// OpenID Connect CIBA Core §7 (poll mode): asks the named person directly, with a binding
    /// message both screens show. Needs a confidential client; the answer, once polled for with
    /// `waitForToken`, is a token like a device code's. Throws `.oauth` with the server's code when
    /// the server or the client cannot do it (`unauthorized_client`, `invalid_client`), so the
    /// caller can fall back to a device code bound to the same person.
    public func backchannelAuthorize(scope: String?, loginHint: String, bindingMessage: String) async throws -> DeviceAuthorization {
        let metadata = try await metadata()
        guard let endpoint = metadata.backchannel_authentication_endpoint.flatMap(URL.init(string:)) else {
            throw DeviceFlowError.oauth("unsupported", "the server does not offer backchannel authentication")
        }
        var form = credentials()
        form["scope"] = scope ?? "openid"
        form["login_hint"] = loginHint
        form["binding_message"] = bindingMessage
        let (status, body) = try await transport.postForm(endpoint, fields: form)
        guard status == 200 else { throw DeviceFlowError.fromErrorBody(status: status, body: body) }
        struct Answer: Decodable { var auth_req_id: String; var expires_in: Int; var interval: Int?; var push_uri: String? }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: body) else {
            throw DeviceFlowError.badResponse("malformed backchannel authentication response")
        }
        var request = DeviceAuthorization(device_code: answer.auth_req_id, user_code: "", verification_uri: "",
                                          expires_in: answer.expires_in, interval: answer.interval)
        request.tokenEndpoint = metadata.token_endpoint
        request.push_uri = answer.push_uri
        request.backchannel = true
        request.bindingMessage = bindingMessage
        return request
    }

    /// Polls until a decision (RFC 8628 §3.4–3.5; for a backchannel request, CIBA Core §10.1). `onPoll` sees each interim answer. With
    /// `push` and a `push_uri` from the server, a decision wakes the wait at once (the next poll
    /// redeems immediately); polling at `interval` continues underneath, so a dropped socket or a
    /// restarted server never loses the decision.
    public func waitForToken(_ codes: DeviceAuthorization, push: (any PushChannel)? = nil,
                             onPoll: @Sendable (PollEvent) -> Void = { _ in }) async throws -> TokenResponse {
        guard let endpoint = codes.tokenEndpoint.flatMap(URL.init(string:)) else {
            throw DeviceFlowError.badResponse("no token endpoint")
        }
        var interval = TimeInterval(codes.interval ?? 5)
        let deadline = Date().addingTimeInterval(TimeInterval(codes.expires_in))
        let wake = WakeSignal()
        let listener = push.flatMap { channel in
            codes.push_uri.map { uri in
                Task { await Self.listen(channel, uri: uri, codes: codes, until: deadline, wake: wake) }
            }
        }
        defer { listener?.cancel() }
        while true {
            if !wake.consume() {
                try await wake.sleep(interval, using: sleep)
            }
            var form = credentials()
            form["grant_type"] = codes.backchannel ? "urn:openid:params:grant-type:ciba" : "urn:ietf:params:oauth:grant-type:device_code"
            form[codes.backchannel ? "auth_req_id" : "device_code"] = codes.device_code
            let status: Int
            let body: Data
            do {
                (status, body) = try await postToken(endpoint, form: form)
            } catch {
                // §3.5: a transport failure is retried at the current interval until expiry.
                guard Date() < deadline else { throw DeviceFlowError.expired }
                onPoll(.retrying(String(describing: error)))
                continue
            }
            if status == 200 {
                guard let token = TokenResponse(json: body) else { throw DeviceFlowError.badResponse("malformed token response") }
                return token
            }
            let error = DeviceFlowError.fromErrorBody(status: status, body: body)
            switch error {
            case .oauth("authorization_pending", _):
                onPoll(.pending)
            case .oauth("slow_down", _):
                interval += 5  // §3.5: for this and all subsequent requests
                onPoll(.slowDown(newInterval: Int(interval)))
            case .oauth("access_denied", _):
                throw DeviceFlowError.denied
            case .oauth("expired_token", _):
                throw DeviceFlowError.expired
            default:
                throw error
            }
        }
    }

    /// Keeps a push socket open until an outcome arrives (then wakes the poller) or the code
    /// expires; reconnects after a dropped socket with a growing pause.
    static func listen(_ channel: any PushChannel, uri: String, codes: DeviceAuthorization, until deadline: Date, wake: WakeSignal) async {
        var pause: UInt64 = 500
        while !Task.isCancelled, Date() < deadline {
            let outcome = codes.backchannel
                ? try? await channel.outcome(pushURI: uri, subscription: PushAPI.BackchannelSubscription(authRequestID: codes.device_code))
                : try? await channel.outcome(pushURI: uri, deviceCode: codes.device_code)
            if let outcome {
                _ = outcome
                wake.fire()
                return
            }
            try? await Task.sleep(for: .milliseconds(pause))
            pause = min(pause * 2, 8_000)
        }
    }

    private func credentials() -> [String: String] {
        var form = ["client_id": clientID]
        if let clientSecret { form["client_secret"] = clientSecret }
        return form
    }
}

public enum PollEvent: Sendable, Equatable {
    case pending
    case slowDown(newInterval: Int)
    case retrying(String)
}
