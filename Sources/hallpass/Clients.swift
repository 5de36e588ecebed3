import ArgumentParser
import Foundation
import HallpassCore
import HallpassServer
import HallpassStore

struct Clients: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage OAuth clients.",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a client.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "client_id (visible ASCII).") var id: String
        @Option(help: "Display name shown on consent screens (marked as supplied by the client).") var name: String
        @Flag(name: .customLong("public"), help: "A public client (a device that cannot keep a secret).") var isPublic = false
        @Flag(name: .customLong("secret-stdin"), help: "A confidential client; read its secret from standard input.")
        var secretStdin = false
        @Flag(name: .customLong("generate-secret"),
              help: "A confidential client with a 256-bit secret Hallpass makes and prints once (cheap to verify on every request).")
        var generateSecret = false
        @Option(help: "Scope ceiling, space-separated (default: openid).") var scopes: String = "openid"
        @Option(name: .customLong("grant"),
                help: "device_code, authorization_code, refresh_token or ciba (backchannel, confidential clients); repeat for several (default: device_code).")
        var grants: [String] = []
        @Option(name: .customLong("redirect-uri"),
                help: "For authorization_code: where the browser returns (repeatable). https, or http://127.0.0.1/… or http://[::1]/… (any port).")
        var redirectURIs: [String] = []
        @Option(name: .customLong("code-lifetime"), help: "Device code lifetime, e.g. 600s or 10m.") var codeLifetime: String = "600s"
        @Option(help: "Polling interval, e.g. 5s.") var interval: String = "5s"
        @Flag(help: "May call the introspection endpoint (confidential clients only).") var introspect = false
        @Flag(name: .customLong("require-dpop"),
              help: "Every token request must carry a DPoP proof; its tokens are always key-bound (RFC 9449 §5.2).")
        var requireDPoP = false
        @Option(name: .customLong("ciba-mode"), help: "With --grant ciba: poll (default), ping or push (CIBA Core §5).")
        var cibaMode: String = "poll"
        @Option(name: .customLong("ciba-notification-endpoint"),
                help: "Where ping and push deliveries go: https, or http on 127.0.0.1 / [::1].")
        var cibaNotificationEndpoint: String?
        @Flag(name: .customLong("require-totp"),
              help: "Approving this client's requests needs a code from the approver's authenticator (a consent session opened with one).")
        var requireTOTP = false
        @Option(help: "Approver on another network than the device (BCP 247): off, warn (default: said on the consent screen) or require (refused, the request denied).")
        var proximity: String = "warn"
        @Option(name: .customLong("device-networks"), help: "Devices may ask only from these networks: CIDR[,CIDR…] (default: the server's device_networks, else anywhere).")
        var deviceNetworks: String?
        @Option(name: .customLong("access-token-lifetime"), help: "Shorter access tokens than the server's 1 h, e.g. 10m.")
        var accessTokenLifetime: String?
        @Option(name: .customLong("refresh-token-lifetime"), help: "A grant ends this long after its approval, e.g. 7d (the server's: 30d).")
        var refreshTokenLifetime: String?
        @Option(name: .customLong("refresh-idle-lifetime"), help: "A grant not refreshed for this long ends, e.g. 1d.")
        var refreshIdleLifetime: String?
        @Option(name: .customLong("cross-device-scopes"), help: "The most a device grant may ask for, within --scopes, e.g. \"read\" (BCP 247 limited scopes).")
        var crossDeviceScopes: String?
        @Option(name: .customLong("id-token-alg"),
                help: "id_token_signed_response_alg (OpenID Connect Registration §2): RS256 (default), EdDSA or ES256.")
        var idTokenAlgorithm: String?

        func run() async throws {
            try await runReporting {
                guard [isPublic, secretStdin, generateSecret].filter({ $0 }).count == 1 else {
                    throw CLIError("choose exactly one of --public, --secret-stdin and --generate-secret")
                }
                if introspect && isPublic { throw CLIError("--introspect needs a confidential client (--secret-stdin or --generate-secret)") }
                let scopeSet: ScopeSet
                do throws(OAuthError) { scopeSet = try ScopeSet(parsing: scopes) } catch { throw CLIError("--scopes: \(error.errorDescription ?? "invalid")") }
                guard !scopeSet.isEmpty else { throw CLIError("--scopes needs at least one scope") }
                var grantTypes: [OAuthClient.GrantType] = []
                for grant in grants.isEmpty ? ["device_code"] : grants {
                    guard let type = OAuthClient.GrantType(shortName: grant) else {
                        throw CLIError("unknown --grant \(TerminalText.sanitize(grant)) (device_code, authorization_code, refresh_token or ciba)")
                    }
                    if !grantTypes.contains(type) { grantTypes.append(type) }
                }
                // CIBA Core §7.1: the backchannel endpoint authenticates its clients.
                if grantTypes.contains(.ciba), isPublic {
                    throw CLIError("--grant ciba needs a confidential client (--secret-stdin or --generate-secret)")
                }
                guard let deliveryMode = BackchannelDeliveryMode(rawValue: cibaMode) else {
                    throw CLIError("--ciba-mode must be poll, ping or push")
                }
                if deliveryMode != .poll || cibaNotificationEndpoint != nil {
                    guard grantTypes.contains(.ciba) else { throw CLIError("--ciba-mode and --ciba-notification-endpoint go with --grant ciba") }
                    guard (deliveryMode == .poll) == (cibaNotificationEndpoint == nil) else {
                        throw CLIError(deliveryMode == .poll ? "a poll-mode client has no notification endpoint"
                                       : "--ciba-mode \(deliveryMode.rawValue) needs --ciba-notification-endpoint")
                    }
                }
                // Pushed tokens never pass the token endpoint, where a DPoP proof would bind them.
                if deliveryMode == .push, requireDPoP {
                    throw CLIError("--require-dpop cannot go with --ciba-mode push: pushed tokens are not bound to a key (use ping or poll)")
                }
                if let cibaNotificationEndpoint {
                    do { _ = try BackchannelDeliveryMode.checkEndpoint(cibaNotificationEndpoint) } catch {
                        throw CLIError("--ciba-notification-endpoint \(TerminalText.sanitize(cibaNotificationEndpoint)): \(error)")
                    }
                }
                var registered: [RedirectURI] = []
                for text in redirectURIs {
                    do {
                        let uri = try RedirectURI(registering: text)
                        if !registered.contains(uri) { registered.append(uri) }
                    } catch { throw CLIError("--redirect-uri \(TerminalText.sanitize(text)): \(error)") }
                }
                do { try OAuthClient.validate(grantTypes: grantTypes, redirectURIs: registered) } catch { throw CLIError("\(error)") }
                if let idTokenAlgorithm, !OAuthClient.idTokenAlgorithms.contains(idTokenAlgorithm) {
                    throw CLIError("--id-token-alg must be one of \(OAuthClient.idTokenAlgorithms.joined(separator: ", "))")
                }
                guard let proximityPolicy = ProximityPolicy(rawValue: proximity) else { throw CLIError("--proximity is off, warn or require") }
                var networks: AddressRanges?
                if let deviceNetworks {
                    do { networks = try AddressRanges(parsing: deviceNetworks) } catch { throw CLIError("--device-networks: \(error)") }
                    if networks?.isEmpty == true { throw CLIError("--device-networks needs at least one CIDR block") }
                }
                func tokenLifetime(_ text: String?, _ flag: String) throws -> TimeInterval? {
                    guard let text else { return nil }
                    guard let seconds = DurationText.parse(text), seconds >= 60, seconds <= 3650 * 86400 else {
                        throw CLIError("\(flag): a duration from 60s to 3650d, like 10m or 7d")
                    }
                    return seconds
                }
                let accessLifetime = try tokenLifetime(accessTokenLifetime, "--access-token-lifetime")
                let refreshLifetime = try tokenLifetime(refreshTokenLifetime, "--refresh-token-lifetime")
                let idleLifetime = try tokenLifetime(refreshIdleLifetime, "--refresh-idle-lifetime")
                var crossDevice: ScopeSet?
                if let crossDeviceScopes {
                    do throws(OAuthError) { crossDevice = try ScopeSet(parsing: crossDeviceScopes) } catch {
                        throw CLIError("--cross-device-scopes: \(error.errorDescription ?? "invalid")")
                    }
                    guard let crossDevice, !crossDevice.isEmpty, crossDevice.isSubset(of: scopeSet) else {
                        throw CLIError("--cross-device-scopes must name some of the client's --scopes")
                    }
                }
                guard let lifetime = DurationText.parse(codeLifetime) else { throw CLIError("--code-lifetime: not a duration") }
                guard let intervalSeconds = DurationText.parse(interval), intervalSeconds == intervalSeconds.rounded() else {
                    throw CLIError("--interval: a whole number of seconds, like 5s")
                }
                do {
                    try OAuthClient.validate(id: id, name: name, codeLifetime: lifetime, interval: Int(intervalSeconds))
                } catch { throw CLIError("\(error)") }
                var secretHash: String?
                var generated: String?
                if generateSecret {
                    let made = ClientSecret.generate(clientID: id)
                    (generated, secretHash) = (made.secret, made.stored)
                } else if secretStdin {
                    let secret = try readSecretFromStdin(what: "client secret")
                    guard secret.count >= 16 else { throw CLIError("a client secret needs at least 16 characters") }
                    secretHash = try PasswordHasher.hash(secret)
                }
                var client = OAuthClient(id: id, name: name, secretHash: secretHash, scopes: scopeSet, grantTypes: grantTypes,
                                         codeLifetime: lifetime, interval: Int(intervalSeconds), canIntrospect: introspect,
                                         idTokenSigningAlgorithm: idTokenAlgorithm == "RS256" ? nil : idTokenAlgorithm,
                                         redirectURIs: registered, requiresDPoP: requireDPoP, proximity: proximityPolicy,
                                         deviceNetworks: networks, accessTokenLifetime: accessLifetime,
                                         refreshTokenLifetime: refreshLifetime, refreshIdleLifetime: idleLifetime,
                                         crossDeviceScopes: crossDevice)
                client.requiresTOTP = requireTOTP
                client.backchannelMode = deliveryMode
                client.backchannelNotificationEndpoint = cibaNotificationEndpoint
                try await self.store.withStore { store in
                    do {
                        try await store.addClient(client)
                    } catch let error as StoreError { throw CLIError(error.description) }
                    print("added \(isPublic ? "public" : "confidential") client \(id)")
                    // OIDC Registration §2: the client expects this algorithm; say so when no key has it.
                    if let wanted = client.idTokenSigningAlgorithm,
                       try await !store.signingKeys().contains(where: { $0.algorithm.rawValue == wanted && $0.retiredAt == nil }) {
                        FileHandle.standardError.write(Data("""
                            note: no active \(wanted) signing key, so this client's ID tokens are signed RS256 \
                            until one exists (hallpass keys rotate --alg \(wanted))

                            """.utf8))
                    }
                    if let generated {
                        // The only time the secret exists outside the client: it is stored as a keyed hash.
                        print("client_secret: \(generated)")
                        print("(shown once; Hallpass keeps only a hash of it)")
                    }
                }
            }
        }
    }

    struct List: StoreListing {
        static let configuration = CommandConfiguration(abstract: "List clients.")
        @OptionGroup var store: StoreOptions

        func rows(in store: any HallpassStorage) async throws -> [OAuthClient] { try await store.clients() }

        func line(_ c: OAuthClient) -> String {
            let kind = c.secretHash.map { ClientSecret.isGenerated($0) ? "confidential(generated secret)" : "confidential" } ?? "public"
            let grants = c.grantTypes.map(\.shortName).joined(separator: ",")
            return "\(TerminalText.sanitize(c.id))\t\(kind)\t\(TerminalText.sanitize(c.name))\tscopes=\(c.scopes)\tgrants=\(grants)"
                + "\tinterval=\(c.interval)s\tlifetime=\(Int(c.codeLifetime))s\tid_token_alg=\(c.idTokenSigningAlgorithm ?? "RS256")"
                + (c.canIntrospect ? "\tintrospect" : "")
                + (c.requiresDPoP ? "\trequire_dpop" : "") + (c.requiresTOTP ? "\trequire_totp" : "")
                + (c.proximity == .warn ? "" : "\tproximity=\(c.proximity.rawValue)")
                + (c.deviceNetworks.map { "\tdevice_networks=\($0)" } ?? "")
                + (c.accessTokenLifetime.map { "\taccess_token_lifetime=\(Int($0))s" } ?? "")
                + (c.refreshTokenLifetime.map { "\trefresh_token_lifetime=\(Int($0))s" } ?? "")
                + (c.refreshIdleLifetime.map { "\trefresh_idle_lifetime=\(Int($0))s" } ?? "")
                + (c.crossDeviceScopes.map { "\tcross_device_scopes=\($0)" } ?? "")
                + (c.redirectURIs.isEmpty ? "" : "\tredirect_uris=" + c.redirectURIs.map(\.value).joined(separator: ","))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a client.")
        @OptionGroup var store: StoreOptions
        @Argument var id: String

        func run() async throws {
            try await runReporting {
                guard try await store.withStore({ try await $0.removeClient(id: id) }) else { throw CLIError("no client \(TerminalText.sanitize(id))") }
                print("removed client \(id)")
            }
        }
    }
}

struct Scopes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage scope descriptions shown on consent screens.", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add or describe a scope.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @Option(help: "What approving this scope allows, in the server's words.") var description: String
        @Flag(name: .customLong("step-up"),
              help: "Approving a request that includes this scope needs a fresh code (at most 5 minutes old) from the approver's authenticator.")
        var stepUp = false

        func run() async throws {
            try await runReporting {
                guard let parsed = try? ScopeSet(parsing: name), parsed.count == 1 else {
                    throw CLIError(RegistrationError.badScopeName.description)
                }
                guard TerminalText.isClean(description), !description.isEmpty, description.count <= 200 else {
                    throw CLIError("a description is 1–200 characters without control or invisible characters")
                }
                try await store.withStore { try await $0.setScope(name: name, description: description, stepUp: stepUp) }
                print("scope \(name): \(description)\(stepUp ? " (step-up: approving it needs a fresh code)" : "")")
            }
        }
    }

    struct List: StoreListing {
        static let configuration = CommandConfiguration(abstract: "List scopes.")
        @OptionGroup var store: StoreOptions

        func rows(in store: any HallpassStorage) async throws -> [(key: String, value: String)] {
            let stepUp = try await store.stepUpScopes()
            return try await store.scopeDescriptions().sorted { $0.key < $1.key }
                .map { (key: $0.key, value: $0.value + (stepUp.contains($0.key) ? "\tstep-up" : "")) }
        }

        func line(_ scope: (key: String, value: String)) -> String {
            "\(TerminalText.sanitize(scope.key))\t\(scope.value.split(separator: "\t").map { TerminalText.sanitize(String($0)) }.joined(separator: "\t"))"
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage token signing keys.", subcommands: [Rotate.self, List.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a new signing key; the old public key stays in the JWKS until its tokens expire.")
        @OptionGroup var store: StoreOptions
        @Option(help: "Rotate only the key of this algorithm: EdDSA or ES256 (access tokens), RS256 (ID tokens). Default: both keys, the access-token key keeping its algorithm.")
        var alg: String?

        func run() async throws {
            try await runReporting {
                try await self.store.withStore { store in
                    var algorithms: [SigningKeyRecord.Algorithm] = []
                    if let alg {
                        guard let algorithm = SigningKeyRecord.Algorithm(rawValue: alg) else {
                            throw CLIError("--alg must be EdDSA, ES256 or RS256")
                        }
                        algorithms = [algorithm]
                    } else {
                        let current = try await store.signingKeys().last { $0.algorithm.use == .accessToken && $0.retiredAt == nil }
                        algorithms = [current?.algorithm ?? .eddsa, .rs256]
                    }
                    for algorithm in algorithms {
                        let record = try KeyRing.generate(algorithm, at: Date())
                        try await store.addActiveKey(record, at: Date())
                        let use = algorithm.use == .idToken ? "ID-token" : "access-token"
                        print("new \(algorithm.rawValue) \(use) signing key \(record.kid)")
                    }
                }
            }
        }
    }

    struct List: StoreListing {
        static let configuration = CommandConfiguration(abstract: "List signing keys.")
        @OptionGroup var store: StoreOptions

        func rows(in store: any HallpassStorage) async throws -> [SigningKeyRecord] { try await store.signingKeys() }

        func line(_ key: SigningKeyRecord) -> String {
            let state = key.retiredAt.map { "retired \(ISO8601DateFormatter().string(from: $0))" } ?? "active"
            let use = key.algorithm.use == .idToken ? "id_token" : "access_token"
            return "\(key.kid)\t\(key.algorithm.rawValue)\t\(use)\t\(state)"
        }
    }
}
