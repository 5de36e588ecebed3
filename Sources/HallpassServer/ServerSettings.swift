import Foundation
import Logging
import HallpassCore
import HallpassSettings

/// Everything `hallpass serve` can be told (ARCHITECTURE.md §6); the admin commands read it too,
/// for `db`. `SettingsLoader` fills it: defaults, a TOML file, `HALLPASS_*` variables, then flags
/// (`ServerSettings+Keys.swift`). The consent front's settings are `ConsentFrontSettings`.
public struct ServerSettings: Sendable, Equatable {
    public var databasePath = "./hallpass.db"
    public var host = "127.0.0.1"
    public var port = 8080
    /// The issuer identifier (RFC 8414 §2); may carry a path, e.g. `https://host:8443/t/acme`.
    /// Defaults to `http(s)://HOST:PORT`.
    public var issuer: URL?
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    public var signingAlgorithm: String = "EdDSA"
    public var demo = false
    /// RFC 9449 §8: every DPoP proof at the token endpoint and userinfo must carry a nonce this
    /// server issued (`dpop_nonces`, `serve --dpop-nonces`). Off by default: `iat` then decides.
    public var dpopNonces = false
    /// BCP 247 proximity: networks that count as one (`sites`, each a `CIDR,CIDR` list; a TOML
    /// array of such strings, or `;`-separated in the environment).
    public var sites: [AddressRanges] = []
    /// BCP 247 trusted networks: where devices may ask from, for clients without their own
    /// `--device-networks` (`device_networks`). Nil: anywhere.
    public var deviceNetworks: AddressRanges?
    /// The audit trail (`audit_log`): a file, `-` for standard output, `off`. Nil: beside the
    /// database (`DB.audit.jsonl`), or `hallpass-audit-PORT.jsonl` in the working directory on PostgreSQL.
    public var auditLog: String?

    /// Where the audit trail goes, nil when it is off.
    public var effectiveAuditLog: String? {
        if let auditLog { return auditLog == "off" ? nil : auditLog }
        // On PostgreSQL each replica has its own chain: its port tells replicas on one host apart.
        return usesPostgres ? "hallpass-audit-\(port).jsonl" : databasePath + ".audit.jsonl"
    }
    /// The key that seals TOTP secrets at rest (`totp_key_file`; ARCHITECTURE.md §4.8). Nil:
    /// `hallpass-totp.key` beside the database, or in the working directory on PostgreSQL (copy
    /// it to every replica, like the SSH host key).
    public var totpKeyFile: String?
    /// SSH key logins also ask for a code when the user has an authenticator (`totp_for_ssh_keys`).
    public var totpForSSHKeys = false

    public var effectiveTOTPKeyFile: String {
        if let totpKeyFile { return totpKeyFile }
        if usesPostgres { return "./hallpass-totp.key" }
        return URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent("hallpass-totp.key").path
    }

    /// Where the SSH consent front listens (`ssh_listen`, `serve --ssh-listen`); both nil when
    /// it is off (`ssh_listen = "off"`, `serve --no-ssh`).
    public var sshHost: String? = "127.0.0.1"
    public var sshPort: Int? = 2222
    /// Load balancers whose `X-Forwarded-For` names the client (`trusted_proxies`,
    /// `serve --trusted-proxies`); none by default, so the header is ignored.
    public var trustedProxies = TrustedProxies.none
    /// HTTP timeouts and connection limits (`http_*` settings).
    public var http = HTTPEdgeLimits()
    /// How `serve` writes its log to standard error (`log_format`, `serve --log-format`).
    public var logFormat = LogFormat.text
    /// The least severe level logged (`log_level`, `serve --log-level`).
    public var logLevel = Logger.Level.info
    /// One `info` line per HTTP request (`access_log`, `serve --access-log`).
    public var accessLog = false

    public init() {}

    public var usesTLS: Bool { tlsCertificatePath != nil }

    /// `db` is a PostgreSQL URL (`postgres://…`) rather than a SQLite file.
    public var usesPostgres: Bool {
        databasePath.hasPrefix("postgres://") || databasePath.hasPrefix("postgresql://")
    }

    /// The database for messages and logs: a PostgreSQL URL without its password.
    public var databaseDescription: String {
        guard usesPostgres, var url = URLComponents(string: databasePath) else { return databasePath }
        if url.password != nil { url.password = "***" }
        return url.string ?? "postgres://…"
    }

    /// The issuer in effect, without a trailing slash.
    public var effectiveIssuer: String {
        if let issuer {
            var text = issuer.absoluteString
            while text.hasSuffix("/") { text.removeLast() }
            return text
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(usesTLS ? "https" : "http")://\(shownHost):\(port)"
    }

    /// The SSH consent front as people reach it, `ssh://HOST:PORT`, for metadata and the
    /// verification page. A wildcard listen address is reached at the issuer's host; a loopback
    /// one only from the issuer's own machine, so it is advertised only with a loopback issuer.
    public var sshConsentURI: String? {
        guard let sshHost, let sshPort, sshPort > 0, let issuerHost = URL(string: effectiveIssuer)?.host else { return nil }
        let host: String
        if ["0.0.0.0", "::", ""].contains(sshHost) {
            host = issuerHost
        } else if Self.isLoopback(sshHost), !Self.isLoopback(issuerHost) {
            return nil
        } else {
            host = sshHost
        }
        let shown = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "ssh://\(shown):\(sshPort)"
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    /// Where processes on this machine reach this replica's HTTP API: the SSH front's
    /// `hallpass approve` children use it, so their keypresses do not travel through the load
    /// balancer to another replica. The issuer when it cannot be known or trusted locally: TLS
    /// (the certificate names the public host) or an ephemeral port.
    public var localURL: String {
        guard !usesTLS, port != 0 else { return effectiveIssuer }
        let local: String
        switch host {
        case "0.0.0.0", "": local = "127.0.0.1"
        case "::", "[::]": local = "[::1]"
        default: local = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        }
        return "http://\(local):\(port)" + basePath
    }

    /// The path component of the issuer, where every route is mounted ("" for none).
    public var basePath: String {
        guard let url = URL(string: effectiveIssuer) else { return "" }
        let path = url.path
        return path == "/" ? "" : path
    }

    /// Checks the combination; the message names what is wrong.
    public func validate() throws(ConfigurationError) {
        guard (0...65535).contains(port) else { throw .invalid("listen port \(port) is out of range") }
        if (tlsCertificatePath == nil) != (tlsKeyPath == nil) {
            throw .invalid("--tls-cert and --tls-key go together")
        }
        if let issuer {
            guard let scheme = issuer.scheme, ["http", "https"].contains(scheme), issuer.host != nil,
                  issuer.query == nil, issuer.fragment == nil
            else { throw .invalid("issuer must be an http(s) URL without query or fragment (RFC 8414 §2)") }
        }
        guard ["EdDSA", "ES256"].contains(signingAlgorithm) else {
            throw .invalid("signing algorithm must be EdDSA or ES256")
        }
    }

    /// Parses `HOST:PORT`, `[v6]:PORT` or `:PORT`.
    public static func parseListen(_ text: String) throws(ConfigurationError) -> (host: String, port: Int) {
        var host = "127.0.0.1"
        var portText = text
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalid("listen address \(text) is malformed") }
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = String(text[text.index(after: close)...]).trimmingPrefix(":").description
        } else if let colon = text.lastIndex(of: ":") {
            if colon != text.startIndex { host = String(text[..<colon]) }
            portText = String(text[text.index(after: colon)...])
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw .invalid("listen address \(text) needs a port from 0 to 65535")
        }
        return (host, port)
    }
}

private extension String {
    func trimmingPrefix(_ prefix: String) -> Substring {
        hasPrefix(prefix) ? dropFirst(prefix.count) : Substring(self)
    }
}
