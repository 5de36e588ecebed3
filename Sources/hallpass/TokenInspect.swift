import ArgumentParser
import Foundation
import HallpassClient
import HallpassCore
import HallpassResource

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a valid access token (refreshing it first when needed), or explain one.",
        subcommands: [Current.self, Inspect.self], defaultSubcommand: Current.self)

    /// `hallpass token inspect` (issue 16): says in plain words whether a token verifies against
    /// the issuer's published keys, and if not, exactly why. Exit status 0 only when it verifies.
    struct Inspect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Explain an access token: does it verify against the issuer's published keys, and if not, why.",
            discussion: """
                Reads the token from the argument, or from standard input when it is '-' or absent; an Authorization \
                header's value ("Bearer …", "DPoP …") is taken as presented, so a DPoP-bound token sent as Bearer is \
                refused. Exits 0 only when it verifies.
                """)

        @Argument(help: "The token, or '-' for standard input.") var token: String?
        @Option(help: "The issuer you expect (default: the one the token names, unverified).") var issuer: String?
        @Option(help: "The audience you expect (default: the issuer).") var audience: String?
        @Option(help: "Clock leeway in seconds for exp, nbf and iat.") var leeway: Int = 60
        @Flag(help: "One JSON object on standard output, for scripts.") var json = false
        @Option(name: .customLong("dpop"), help: "A DPoP proof sent with the token: check it too (needs --url).") var dpopProof: String?
        @Option(help: "The request's method, for --dpop.") var method: String = "GET"
        @Option(help: "The request's URL, for --dpop.") var url: String?

        func validate() throws {
            if dpopProof != nil, url == nil { throw ValidationError("--dpop needs --url (and --method unless GET)") }
        }

        func run() async throws {
            try await runReporting {
                let text = try readToken()
                let report = await inspect(text)
                if json {
                    let data = try JSONSerialization.data(withJSONObject: report.json, options: [.sortedKeys])
                    writeOut(String(decoding: data, as: UTF8.self))
                } else {
                    for line in report.lines { writeOut(TerminalText.sanitize(line)) }
                }
                if !report.valid { throw ExitCode(1) }
            }
        }

        func readToken() throws -> String {
            if let token, token != "-" { return token.trimmingCharacters(in: .whitespacesAndNewlines) }
            guard let line = try StrictInput.readLineBytes(what: "token") else { throw CLIError("expected a token on standard input") }
            let text = try StrictInput.text(line, what: "token on standard input").trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty else { throw CLIError("the token on standard input is empty") }
            return text
        }

        struct Report {
            var lines: [String] = []
            var valid = false
            var json: [String: Any] = [:]
        }

        func inspect(_ input: String) async -> Report {
            var report = Report()
            // An Authorization header's value: the scheme says how the token was presented.
            let presented = PresentedAccessToken(authorization: input)
            let text = presented?.token ?? input
            let jws: CompactJWS
            do {
                jws = try CompactJWS(parsing: text)
            } catch {
                report.lines = ["✗ \(TokenRejection.malformed(error))"]
                report.json = ["valid": false, "code": "malformed", "reason": "\(TokenRejection.malformed(error))"]
                return report
            }
            let (header, claims) = (jws.header, jws.claims)
            report.lines.append("header: alg \(header.alg ?? "(none)"), typ \(header.typ ?? "(none)"), kid \(header.kid ?? "(none)")")
            report.lines.append("issuer \(claims.iss ?? "(none)"), audience \((claims.aud ?? []).joined(separator: " ")), "
                                + "client \(claims.clientID ?? "(none)"), subject \(claims.sub ?? "(none)"), scope \(claims.scope ?? "(none)")")
            var json: [String: Any] = [
                "header": ["alg": header.alg as Any, "typ": header.typ as Any, "kid": header.kid as Any].compactMapValues { $0 },
                "claims": ["iss": claims.iss as Any, "aud": claims.aud as Any, "sub": claims.sub as Any, "client_id": claims.clientID as Any,
                           "scope": claims.scope as Any, "exp": claims.exp as Any, "iat": claims.iat as Any].compactMapValues { $0 },
            ]
            if let jkt = claims.cnf?.jkt {
                report.lines.append("DPoP-bound to key \(jkt): it must be presented with a DPoP proof from that key, not as Bearer")
                json["dpop_jkt"] = jkt
            }
            guard let issuerText = issuer ?? claims.iss, let issuerURL = URL(string: issuerText), issuerURL.scheme != nil else {
                report.lines.append("✗ no issuer to fetch keys from: pass --issuer URL")
                report.json = json.merging(["valid": false, "code": "no_issuer"]) { $1 }
                return report
            }
            if issuer == nil { report.lines.append("keys from the issuer the token names (pass --issuer to check it against the one you expect)") }
            let issuerKeys = IssuerKeySet(issuer: issuerURL)
            let source = RecordingKeySet(source: issuerKeys)
            let offset = await Self.clockOffset(issuerKeys.metadataURL)
            if let offset {
                json["clock_offset_seconds"] = offset
                if abs(offset) >= 2 { report.lines.append("this computer's clock is \(abs(offset)) s \(offset > 0 ? "ahead of" : "behind") the issuer's") }
            }
            let verifier = AccessTokenVerifier(
                policy: VerifierPolicy(issuer: issuerText, audience: audience, leeway: TimeInterval(leeway), refetchInterval: 0), keys: source)
            switch await verifier.verify(text) {
            case .success(let verified):
                report.valid = true
                let left = Int(clamping: (claims.exp ?? 0) - Date().timeIntervalSince1970)
                let expiry = left >= 0 ? "expires in \(left) s" : "expired \(-left) s ago, within the \(leeway) s leeway"
                report.lines.append("✓ verifies with key \(verified.kid) published by \(issuerText); \(expiry)")
                json["valid"] = true
                json["kid"] = verified.kid
                if let retired = source.retirement(of: verified.kid) {
                    report.lines.append("key \(verified.kid) was retired at \(retired): tokens it signed stay valid until they expire; "
                                        + "new tokens are signed with another key")
                    json["key_retired_at"] = retired
                }
                if presented?.scheme == .bearer, claims.cnf?.jkt != nil {
                    let refused = TokenRejection.dpopBoundPresentedAsBearer
                    report.valid = false
                    report.lines.append("✗ \(refused)")
                    json.merge(["valid": false, "code": Self.code(of: refused), "reason": refused.description]) { $1 }
                } else if let dpopProof, let url, let refused = Self.checkProof(dpopProof, method: method, url: url, token: text,
                                                                         bound: claims.cnf?.jkt, report: &report) {
                    report.valid = false
                    report.lines.append("✗ \(refused)")
                    json.merge(["valid": false, "code": Self.code(of: refused), "reason": refused.description]) { $1 }
                }
            case .failure(let rejection):
                report.lines.append("✗ \(rejection)")
                json["valid"] = false
                json["code"] = Self.code(of: rejection)
                json["reason"] = rejection.description
                if case .unknownKey(_, let published) = rejection {
                    json["published_kids"] = published
                    let retired = published.compactMap { kid in source.retirement(of: kid).map { "\(kid) retired at \($0)" } }
                    if !retired.isEmpty { report.lines.append("of those, " + retired.joined(separator: "; ")) }
                    report.lines.append("a key is published until every token it signed has expired; an older token's key is gone")
                }
            }
            report.json = json
            return report
        }

        /// RFC 9449 §4.3 and §7.1 for a proof sent with the token (no replay memory here: whether
        /// this proof was used before only the server that saw it knows).
        static func checkProof(_ proof: String, method: String, url: String, token: String, bound: String?,
                               report: inout Report) -> TokenRejection? {
            guard bound != nil else { return .dpopProof(.keyMismatch) }
            do {
                let checked = try DPoPProof.check(headers: [proof], context: DPoPProof.Context(
                    method: method, uri: url, accessToken: token, boundThumbprint: bound), now: Date())
                report.lines.append("✓ the DPoP proof verifies: \(checked.algorithm) key \(checked.thumbprint), for \(checked.htm) \(checked.htu), "
                                    + "made \(Int(clamping: Date().timeIntervalSince(checked.iat))) s ago")
                return nil
            } catch {
                return .dpopProof(error)
            }
        }

        /// A stable name per reason, for `--json`.
        static func code(of rejection: TokenRejection) -> String {
            switch rejection {
            case .malformed: "malformed"
            case .algorithmRefused: "algorithm_refused"
            case .headerNamesAKey: "header_names_a_key"
            case .notAnAccessToken(_, let idToken): idToken ? "id_token" : "not_an_access_token"
            case .unknownKey: "unknown_kid"
            case .badSignature: "bad_signature"
            case .inactive: "inactive"
            case .expired: "expired"
            case .notYetValid: "not_yet_valid"
            case .issuedInTheFuture: "issued_in_the_future"
            case .missingClaim: "missing_claim"
            case .wrongIssuer: "wrong_issuer"
            case .wrongAudience: "wrong_audience"
            case .insufficientScope: "insufficient_scope"
            case .keysUnavailable: "keys_unavailable"
            case .dpopBoundPresentedAsBearer: "dpop_bound_as_bearer"
            case .notDPoPBound: "not_dpop_bound"
            case .dpopNotConfigured: "dpop_not_configured"
            case .dpopProof: "dpop_proof"
            }
        }

        /// Local clock minus the issuer's (its `Date` header, RFC 9110 §6.6.1), in whole seconds.
        static func clockOffset(_ url: URL) async -> Int? {
            guard let reply = try? await HTTPClientTransport().send(url), let date = reply.headers["date"]
            else { return nil }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            guard let server = formatter.date(from: date) else { return nil }
            return Int(Date().timeIntervalSince(server).rounded())
        }
    }
}

/// The key set as fetched, kept so `inspect` can say which published keys are retired and when
/// (`hallpass_retired_at`, a member Hallpass adds to retired keys' JWKs).
final class RecordingKeySet: KeySetSource, @unchecked Sendable {
    let source: any KeySetSource
    private let lock = NSLock()
    private var retired: [String: String] = [:]

    init(source: any KeySetSource) { self.source = source }

    func keySet() async throws -> Data {
        let data = try await source.keySet()
        let keys = ((try? JSONSerialization.jsonObject(with: data)) as? [String: Any])?["keys"] as? [[String: Any]] ?? []
        var found: [String: String] = [:]
        for key in keys {
            if let kid = key["kid"] as? String, let at = key["hallpass_retired_at"] as? String { found[kid] = at }
        }
        lock.withLock { retired = found }
        return data
    }

    func retirement(of kid: String) -> String? { lock.withLock { retired[kid] } }
}
