import ArgumentParser
import Foundation
import HallpassCore
import HallpassPostgres
import HallpassServer
import HallpassSettings
import HallpassSSH
import HallpassStore
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the authorization server.")

    @OptionGroup var store: StoreOptions

    @Option(help: "Address to listen on, HOST:PORT (default 127.0.0.1:8080; also HALLPASS_LISTEN).")
    var listen: String?

    @Option(help: "Issuer URL, may carry a path, e.g. https://host:8443/t/acme (also HALLPASS_ISSUER).")
    var issuer: String?

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain; serve HTTPS.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("signing-alg"), help: "Algorithm for the first signing key: EdDSA (default) or ES256.")
    var signingAlg: String?

    @Option(name: .customLong("ssh-listen"), help: "Address for the SSH consent front, HOST:PORT (default 127.0.0.1:2222; also HALLPASS_SSH_LISTEN).")
    var sshListen: String?

    @Flag(name: .customLong("no-ssh"), help: "Do not start the SSH consent front (also ssh_listen = \"off\").")
    var noSSH = false

    @Option(name: .customLong("trusted-proxies"), help: "Load balancers whose X-Forwarded-For names the client: addresses or CIDR blocks, comma-separated, or \"none\" (also trusted_proxies, HALLPASS_TRUSTED_PROXIES).")
    var trustedProxies: String?

    @Flag(name: .customLong("dpop-nonces"), help: "Require the server's nonce in every DPoP proof (RFC 9449 §8; also dpop_nonces = true).")
    var dpopNonces = false

    @Flag(help: "Seed a public client 'demo-device' and a user 'alice' (password printed once).")
    var demo = false

    @Option(name: .customLong("log-level"), help: "Log level: trace, debug, info (default), notice, warning, error, critical (also log_level).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "Log format on standard error: text (default) or json, one object per line (also log_format).")
    var logFormat: String?

    @Flag(name: .customLong("access-log"), help: "Log one line per HTTP request: request id, method, route, status, duration, client address (also access_log = true).")
    var accessLog = false

    func run() async throws {
        signal(SIGHUP, SIG_IGN)     // main.swift did it already when `serve` came first
        try await runReporting {
            let configuration = try settings()
            let logger = ServerLogging.bootstrap(configuration)
            if !concurrencyRunsOnEventLoops {
                logger.warning("Swift concurrency runs on its own thread pool: another hook was installed first, so every request hops between threads (about half the throughput)")
            }
            // Opening checks the URL on one connection and migrates; the pool runs in the group.
            let storage = try await StoreOptions.openStore(configuration)
            // The group, in dependency order (ServiceGroup stops them in reverse): the database
            // pool, the event bus's LISTEN connection, the sweeper, HTTP, SSH.
            var services: [any Service] = []
            // On PostgreSQL, decisions reach the other replicas' sockets through LISTEN/NOTIFY,
            // and every replica counts the consent API's failure budgets in the database.
            var events: any GrantEventBus = InProcessEventBus()
            var failures: any FailureLedger = InMemoryFailureLedger()
            if let postgres = storage as? PostgresStore {
                let bus = PostgresEventBus(store: postgres, logger: logger)
                try await bus.start()   // a LISTEN that cannot be set up stops startup here, with its reason
                services += [postgres.pool, bus]
                events = bus
                failures = postgres
            }
            let audit = try configuration.effectiveAuditLog.map { try AuditTrail.open($0) } ?? .disabled
            let totpVault: TOTPVault
            do {
                totpVault = try TOTPVault.open(path: configuration.effectiveTOTPKeyFile)
            } catch { throw CLIError("\(error)") }
            let tls = try configuration.tlsCertificatePath.flatMap { cert in
                try configuration.tlsKeyPath.map { key in
                    do { return try TLSCertificateStore(certificatePath: cert, keyPath: key) } catch { throw CLIError("\(error)") }
                }
            }
            let state = try reloadableState()
            let theme = NIOLockedValueBox(state.theme)
            let server = AuthorizationServer(store: storage, configuration: configuration, events: events, failures: failures,
                                             audit: audit, totpVault: totpVault)
            services.append(server.expirySweeper(logger: logger))
            services.append(HTTPFront(server: server, seedDemo: demo, tls: tls, logger: logger))
            services.append(HangupReload(tls: tls, theme: theme, started: state.values,
                                         reread: { _ = try self.settings(); return try self.reloadableState() },
                                         logger: logger))
            ServerLogging.announce("hallpass: issuer \(configuration.effectiveIssuer) · database \(configuration.databaseDescription)"
                     + (configuration.trustedProxies.isEmpty ? "" : " · trusted proxies \(configuration.trustedProxies)"),
                     configuration, logger)
            if let sshHost = configuration.sshHost, let sshPort = configuration.sshPort {
                let keyPath = SSHHostKey.defaultPath(forDatabase: configuration.databasePath)
                let hostKey = try SSHHostKey.loadOrCreate(at: keyPath)
                services.append(SSHFront(gate: server.sshLogins, serverURL: configuration.localURL,
                                         hostKey: hostKey, host: sshHost, port: sshPort,
                                         executable: try Self.ownExecutable(), theme: { theme.withLockedValue { $0 } },
                                         logger: logger) { port in
                    ServerLogging.announce("hallpass: ssh consent front on \(sshHost):\(port) · host key \(hostKey.fingerprint)",
                                           configuration, logger)
                })
            }
            let group = ServiceGroup(configuration: .init(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }
}

extension Serve {
    /// The flags as settings, in the order they override one another (`--no-ssh` last), merged
    /// over the file and the environment by `SettingsLoader`, then checked.
    func settings() throws -> ServerSettings {
        let settings = try store.serverSettings(extraFlags: flagSettings())
        try settings.validate()
        return settings
    }

    /// The values in force by key, and the configured theme: read at start and again on SIGHUP.
    func reloadableState() throws -> (values: [String: String], theme: String?) {
        var flags = flagSettings()
        if let db = store.db { flags.append(Setting("db", db, from: .flag("--db"))) }
        let environment = ProcessInfo.processInfo.environment
        let values = try SettingsLoader.effective(file: store.config, environment: environment, flags: flags)
        let front = try SettingsLoader.load(ConsentFrontSettings.self, file: store.config, environment: environment)
        return (values, front.theme)
    }

    func flagSettings() -> [Setting] {
        var flags: [Setting] = []
        func flag(_ key: String, _ value: String?, _ name: String) {
            if let value { flags.append(Setting(key, value, from: .flag(name))) }
        }
        flag("listen", listen, "--listen")
        flag("issuer", issuer, "--issuer")
        flag("tls_cert", tlsCert, "--tls-cert")
        flag("tls_key", tlsKey, "--tls-key")
        flag("signing_alg", signingAlg, "--signing-alg")
        flag("demo", demo ? "true" : nil, "--demo")
        flag("dpop_nonces", dpopNonces ? "true" : nil, "--dpop-nonces")
        flag("ssh_listen", sshListen, "--ssh-listen")
        flag("trusted_proxies", trustedProxies, "--trusted-proxies")
        flag("ssh_listen", noSSH ? "off" : nil, "--no-ssh")
        flag("log_level", logLevel, "--log-level")
        flag("log_format", logFormat, "--log-format")
        flag("access_log", accessLog ? "true" : nil, "--access-log")
        return flags
    }

    /// This binary's own path, for the SSH front's `hallpass approve` children.
    static func ownExecutable() throws -> String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        guard FileManager.default.isExecutableFile(atPath: path) else { throw CLIError("cannot find this program's own path") }
        return path
    }
}

/// The HTTP application as a Service: once the pool runs (it is earlier in the group), it seeds
/// the demo accounts if asked, makes the first signing keys (`buildApplication`), then serves.
struct HTTPFront: Service {
    let server: AuthorizationServer
    let seedDemo: Bool
    let tls: TLSCertificateStore?
    let logger: Logger

    func run() async throws {
        if seedDemo { try await DemoSeed.seed(server.store) }
        let app = try await buildApplication(server: server, tls: tls, logger: logger)
        try await app.run()
    }
}

/// `--demo`: a public device client and a user, so the README walkthrough needs nothing else.
enum DemoSeed {
    static let scopes: [(String, String)] = [
        ("openid", "Confirm who you are"),
        ("profile", "See your user name"),
        ("read", "Read your data"),
        ("write", "Change your data"),
    ]

    static func seed(_ store: any HallpassStorage) async throws {
        for (name, description) in scopes where try await store.scopeDescriptions()[name] == nil {
            try await store.setScope(name: name, description: description)
        }
        if try await store.client(id: "demo-device") == nil {
            try await store.addClient(OAuthClient(
                id: "demo-device", name: "Demo device", secretHash: nil,
                scopes: ScopeSet(scopes.map(\.0)), grantTypes: [.deviceCode, .refreshToken]))
            writeOut("hallpass: demo client 'demo-device' (public; scopes: openid profile read write)")
        }
        if try await store.user(named: "alice") == nil {
            let password = SecretToken.generate(using: SystemRandomSource()).prefix(16)
            _ = try await store.addUser(name: "alice", passwordHash: try PasswordHasher.hash(String(password)))
            writeOut("hallpass: demo user 'alice', password \(password)  (shown once)")
        }
    }
}
