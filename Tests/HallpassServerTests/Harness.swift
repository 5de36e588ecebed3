import Foundation
import HallpassCore
import HallpassServer
import HallpassStore
import HallpassSQLite
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A server on a throwaway SQLite file with a manual clock and seeded randomness, plus the
/// clients and users most tests need.
struct Harness {
    static let alicePassword = "correct horse battery"
    static let confidentialSecret = "s3cret-s3cret-s3cret"

    let clock = ManualClock()
    let store: SQLiteStore
    let server: AuthorizationServer
    let aliceID: Int64

    init(issuer: String? = nil, seed: UInt64 = 42, trustedProxies: TrustedProxies = .none, dpopNonces: Bool = false,
         audit: AuditTrail = .disabled, backchannelTransport: any BackchannelTransport = HTTPClientBackchannelTransport(),
         configure: (inout ServerSettings) -> Void = { _ in }) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hallpass-http-\(UUID().uuidString)")
        store = try SQLiteStore(path: dir.appendingPathComponent("test.db").path)
        var configuration = ServerSettings()
        configuration.port = 0
        configuration.issuer = issuer.flatMap(URL.init(string:)) ?? URL(string: "http://127.0.0.1:8080")
        configuration.trustedProxies = trustedProxies
        configuration.dpopNonces = dpopNonces
        configure(&configuration)
        server = AuthorizationServer(store: store, configuration: configuration, clock: clock, random: SeededRandomSource(seed: seed),
                                     audit: audit, backchannelTransport: backchannelTransport)
        for (name, text) in [("openid", "Confirm who you are"), ("profile", "See your user name"), ("read", "Read your data"), ("write", "Change your data")] {
            try await store.setScope(name: name, description: text)
        }
        try await store.addClient(OAuthClient(id: "tv", name: "Living-room TV", secretHash: nil,
                                              scopes: ScopeSet(["openid", "profile", "read", "write"]), grantTypes: [.deviceCode, .refreshToken]))
        try await store.addClient(OAuthClient(id: "kiosk", name: "Kiosk", secretHash: nil, scopes: ScopeSet(["read"]), grantTypes: [.deviceCode]))
        try await store.addClient(OAuthClient(id: "refresher", name: "No device grant", secretHash: nil, scopes: ScopeSet(["read"]), grantTypes: [.refreshToken]))
        let secretHash = try PasswordHasher.hash(Harness.confidentialSecret)
        try await store.addClient(OAuthClient(id: "rs", name: "Resource server", secretHash: secretHash, scopes: ScopeSet(["read"]),
                                              grantTypes: [.deviceCode, .refreshToken], canIntrospect: true))
        try await store.addClient(OAuthClient(id: "backend", name: "Backend", secretHash: secretHash, scopes: ScopeSet(["read"]),
                                              grantTypes: [.deviceCode]))
        aliceID = try await store.addUser(name: "alice", passwordHash: PasswordHasher.hash(Harness.alicePassword)).id
        _ = try await store.addUser(name: "bob", passwordHash: PasswordHasher.hash("bob's password"))
    }

    /// `.router` by default; `.live` where the socket's peer address matters (127.0.0.1).
    func test(_ setup: TestingSetup = .router, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        let app = try await buildApplication(server: server)
        try await app.test(setup, body)
    }
}

/// A decoded response.
struct Reply {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: [String: Any]
    var raw: String

    subscript(_ key: String) -> Any? { body[key] }
    var error: String? { body["error"] as? String }
    func string(_ key: String) -> String? { body[key] as? String }
}

extension TestClientProtocol {
    func form(_ path: String, _ fields: [(String, String)], headers: HTTPFields = [:]) async throws -> Reply {
        let encoded = fields.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
        return try await raw(path, method: .post, body: encoded, contentType: "application/x-www-form-urlencoded", headers: headers)
    }

    func json(_ path: String, _ object: [String: String], bearer: String? = nil) async throws -> Reply {
        let data = try JSONSerialization.data(withJSONObject: object)
        var headers: HTTPFields = [:]
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        return try await raw(path, method: .post, body: String(decoding: data, as: UTF8.self), contentType: "application/json", headers: headers)
    }

    func raw(_ path: String, method: HTTPRequest.Method = .get, body: String? = nil, bytes: [UInt8]? = nil,
             contentType: String? = nil, headers: HTTPFields = [:]) async throws -> Reply {
        var fields = headers
        if let contentType { fields[.contentType] = contentType }
        let buffer = bytes.map { ByteBuffer(bytes: $0) } ?? body.map { ByteBuffer(string: $0) }
        return try await execute(uri: path, method: method, headers: fields, body: buffer) { response in
            let text = String(buffer: response.body)
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            expectWireRules(status: response.status, headers: response.headers, body: object, raw: text)
            return Reply(status: response.status, headers: response.headers, body: object, raw: text)
        }
    }

    private func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? ""
    }

    // MARK: flow steps

    func deviceAuthorization(client: String = "tv", scope: String? = "openid profile read") async throws -> (deviceCode: String, userCode: String) {
        var fields = [("client_id", client)]
        if let scope { fields.append(("scope", scope)) }
        let reply = try await form("/oauth/device_authorization", fields)
        #expect(reply.status == .ok, "\(reply.raw)")
        return (try #require(reply.string("device_code")), try #require(reply.string("user_code")))
    }

    func poll(_ deviceCode: String, client: String = "tv") async throws -> Reply {
        try await form("/oauth/token", [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("device_code", deviceCode), ("client_id", client)])
    }

    func login(_ user: String = "alice", _ password: String = Harness.alicePassword) async throws -> String {
        let reply = try await json("/consent/login", ["username": user, "password": password])
        #expect(reply.status == .ok, "\(reply.raw)")
        return try #require(reply.string("session"))
    }

    func approve(_ userCode: String, scope: String? = nil, session: String) async throws -> Reply {
        var body = ["user_code": userCode]
        if let scope { body["scope"] = scope }
        return try await json("/consent/approve", body, bearer: session)
    }

    /// device authorization → approve → redeem; returns the token response.
    func fullFlow(client: String = "tv", scope: String = "openid profile read", approveScope: String? = nil) async throws -> Reply {
        let (deviceCode, userCode) = try await deviceAuthorization(client: client, scope: scope)
        let session = try await login()
        let decision = try await approve(userCode, scope: approveScope, session: session)
        #expect(decision.status == .ok, "\(decision.raw)")
        let token = try await poll(deviceCode, client: client)
        #expect(token.status == .ok, "\(token.raw)")
        return token
    }
}

extension HTTPFields {
    static func basic(_ id: String, _ secret: String) -> HTTPFields {
        [.authorization: "Basic " + Data("\(id):\(secret)".utf8).base64EncodedString()]
    }
}

/// Asserts an RFC 6749 §5.2 error: status, code, JSON, `Cache-Control: no-store`.
func expectOAuthError(_ reply: Reply, _ code: String, _ status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(reply.status == status, "\(reply.raw)", sourceLocation: sourceLocation)
    #expect(reply.error == code, "\(reply.raw)", sourceLocation: sourceLocation)
    #expect(reply.headers[.cacheControl] == "no-store", sourceLocation: sourceLocation)
    #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
    #expect(!reply.raw.contains("GRDB") && !reply.raw.contains("SQL") && !reply.raw.contains(".swift"), sourceLocation: sourceLocation)
}

/// Rules every answer of every test is held to, so that each error any test provokes is checked:
/// `error_description` keeps to RFC 6749 §5.2's characters, and a 401 carries a
/// `WWW-Authenticate` challenge (RFC 9110 §15.5.2).
func expectWireRules(status: HTTPResponse.Status, headers: HTTPFields, body: [String: Any], raw: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
    if let description = body["error_description"] {
        let text = description as? String ?? ""
        #expect(OAuthError.isWireDescription(text), "error_description outside %x20-21/%x23-5B/%x5D-7E: \(raw)",
                sourceLocation: sourceLocation)
    }
    if status == .unauthorized {
        #expect(headers[.wwwAuthenticate]?.isEmpty == false, "401 without WWW-Authenticate: \(raw)", sourceLocation: sourceLocation)
    }
}
