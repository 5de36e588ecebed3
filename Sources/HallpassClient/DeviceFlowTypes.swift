import Foundation
import HallpassCore

/// RFC 8414 §2 fields the device side uses.
public struct ServerMetadata: Decodable, Sendable {
    public var issuer: String
    public var device_authorization_endpoint: String?
    public var token_endpoint: String?
    public var revocation_endpoint: String?
    public var jwks_uri: String?
    /// Hallpass's SSH consent front, `ssh://HOST:PORT`, when the server runs one.
    public var consent_ssh_uri: String?
    /// OpenID Connect CIBA Core §4, when the server offers it.
    public var backchannel_authentication_endpoint: String?
}

/// RFC 8628 §3.2 device authorization response.
public struct DeviceAuthorization: Decodable, Sendable, Equatable {
    public var device_code: String
    public var user_code: String
    public var verification_uri: String
    public var verification_uri_complete: String?
    public var expires_in: Int
    public var interval: Int?
    /// Hallpass's push channel for this grant (ws:// or wss://), when the server offers one.
    public var push_uri: String?
    /// Where to poll; filled in from the metadata.
    public var tokenEndpoint: String?
    /// The SSH consent front to approve on, from the metadata (`consent_ssh_uri`).
    public var sshConsent: SSHConsentAddress?
    /// A CIBA request (`DeviceFlowClient.backchannelAuthorize`): `device_code` holds its
    /// `auth_req_id`, `user_code` is empty, and `bindingMessage` is what the person's screen shows.
    public var backchannel = false
    public var bindingMessage: String?

    enum CodingKeys: String, CodingKey {
        case device_code, user_code, verification_uri, verification_uri_complete, expires_in, interval, push_uri
    }
}

/// RFC 6749 §5.1 token response, with the raw JSON kept for printing.
public struct TokenResponse: Sendable {
    public var accessToken: String
    public var tokenType: String
    public var expiresIn: Int?
    public var refreshToken: String?
    public var scope: String?
    public var idToken: String?
    public var raw: Data

    public init?(json: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
              let access = object["access_token"] as? String, let type = object["token_type"] as? String
        else { return nil }
        accessToken = access
        tokenType = type
        expiresIn = object["expires_in"] as? Int
        refreshToken = object["refresh_token"] as? String
        scope = object["scope"] as? String
        idToken = object["id_token"] as? String
        raw = json
    }
}

public enum DeviceFlowError: Error, Equatable, Sendable, CustomStringConvertible {
    case denied
    case expired
    case oauth(String, String?)
    case transport(String)
    case badResponse(String)

    static func fromErrorBody(status: Int, body: Data) -> DeviceFlowError {
        guard let error = try? JSONDecoder().decode(ErrorBody.self, from: body)
        else { return .badResponse("HTTP \(status) without an OAuth error body") }
        return .oauth(error.error, error.errorDescription)
    }

    public var description: String {
        switch self {
        case .denied: "the request was denied"
        case .expired: "the code expired before anyone approved it"
        case .oauth(let code, let text): text.map { "\(code): \($0)" } ?? code
        case .transport(let text): "cannot reach the server: \(text)"
        case .badResponse(let text): text
        }
    }
}
