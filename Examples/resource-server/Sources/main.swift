import Foundation
import HallpassCore
import HallpassResource
import Hummingbird

/// A small API protected by `HallpassResource` (README "Protecting an API"):
///
///     hallpass-resource-example --issuer http://127.0.0.1:8080 --listen 127.0.0.1:9090
///
/// `GET /health` is open; `GET /api/notes` needs an access token with `read`, `POST /api/notes`
/// one with `write`. Tokens are verified against the issuer's published keys, which are fetched
/// again when a token names a key not seen yet (rotation needs no restart). DPoP-bound tokens
/// (RFC 9449) come as `Authorization: DPoP …` with a proof for the URL clients call (`--public-url`,
/// default `http://` and the `--listen` address); `--require-dpop` refuses bearer tokens.
struct APIContext: AccessTokenRequestContext {
    var coreContext: CoreRequestContextStorage
    var accessToken: VerifiedAccessToken?
    init(source: ApplicationRequestContextSource) { coreContext = .init(source: source) }
}

struct Options {
    var issuer = "http://127.0.0.1:8080"
    var host = "127.0.0.1"
    var port = 9090
    var audience: String?
    /// How often an unknown `kid` may make the verifier fetch the key set again (seconds).
    var refetchInterval: TimeInterval = 30
    /// Introspection mode (RFC 7662): this resource server's client_id; its secret is read from
    /// HALLPASS_INTROSPECTION_SECRET. Answers are cached `introspectionCache` seconds.
    var introspectionClientID: String?
    var introspectionCache: TimeInterval = 5
    var publicURL: String?
    var requireDPoP = false

    init(_ arguments: [String]) throws {
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            if flag == "--require-dpop" {
                requireDPoP = true
                continue
            }
            guard let value = rest.popFirst() else { throw Usage("\(flag) needs a value") }
            switch flag {
            case "--issuer": issuer = value
            case "--audience": audience = value
            case "--introspect-as": introspectionClientID = value
            case "--public-url":
                guard DPoPProof.normalizedURI(value) != nil else { throw Usage("--public-url is an absolute http(s) URL") }
                publicURL = value
            case "--introspection-cache":
                guard let seconds = TimeInterval(value), seconds >= 0 else { throw Usage("--introspection-cache SECONDS") }
                introspectionCache = seconds
            case "--refetch-interval":
                guard let seconds = TimeInterval(value), seconds >= 0 else { throw Usage("--refetch-interval SECONDS") }
                refetchInterval = seconds
            case "--listen":
                guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]) else {
                    throw Usage("--listen HOST:PORT")
                }
                (host, self.port) = (String(value[..<colon]), port)
            default: throw Usage("unknown option \(flag)")
            }
        }
    }

    struct Usage: Error, CustomStringConvertible {
        let description: String
        init(_ text: String) { description = "usage: hallpass-resource-example [--issuer URL] [--listen HOST:PORT] [--audience AUD] [--refetch-interval SECONDS] [--introspect-as CLIENT_ID [--introspection-cache SECONDS]] [--public-url URL] [--require-dpop]: \(text)" }
    }
}

let options: Options
do { options = try Options(CommandLine.arguments) } catch {
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(2)
}
guard let issuerURL = URL(string: options.issuer) else { exit(2) }
let policy = VerifierPolicy(issuer: options.issuer, audience: options.audience, refetchInterval: options.refetchInterval)
let verifier: any AccessTokenChecking
if let clientID = options.introspectionClientID {
    guard let secret = ProcessInfo.processInfo.environment["HALLPASS_INTROSPECTION_SECRET"], !secret.isEmpty else {
        FileHandle.standardError.write(Data("--introspect-as needs the client secret in HALLPASS_INTROSPECTION_SECRET\n".utf8))
        exit(2)
    }
    verifier = IntrospectionVerifier(policy: policy, transport: IntrospectionEndpoint(issuer: issuerURL, clientID: clientID, clientSecret: secret),
                                     cacheLifetime: options.introspectionCache)
} else {
    verifier = AccessTokenVerifier(policy: policy, keys: IssuerKeySet(issuer: issuerURL))
}

struct Note: ResponseEncodable {
    var text: String
    var subject: String
    var client: String
    var scope: String
}

let listenHost = options.host.contains(":") ? "[\(options.host)]" : options.host
let dpop = DPoPOptions(publicBaseURL: options.publicURL ?? "http://\(listenHost):\(options.port)", requireDPoP: options.requireDPoP)
let replays = DPoPReplayMemory()
let router = Router(context: APIContext.self)
router.get("health") { _, _ in "ok" }
router.group("api/notes")
    .add(middleware: BearerTokenMiddleware(verifier: verifier, requiring: ScopeSet(["read"]), dpop: dpop, replays: replays))
    .get { _, context -> Note in
        let token = context.accessToken
        return Note(text: "hello from a protected API", subject: token?.claims.sub ?? "", client: token?.claims.clientID ?? "",
                    scope: token?.scopes.description ?? "")
    }
router.group("api/notes")
    .add(middleware: BearerTokenMiddleware(verifier: verifier, requiring: ScopeSet(["write"]), dpop: dpop, replays: replays))
    .post { _, context -> Note in
        Note(text: "saved", subject: context.accessToken?.claims.sub ?? "", client: context.accessToken?.claims.clientID ?? "",
             scope: context.accessToken?.scopes.description ?? "")
    }
let app = Application(router: router, configuration: .init(address: .hostname(options.host, port: options.port),
                                                          serverName: "hallpass-resource-example"))
try await app.runService()
