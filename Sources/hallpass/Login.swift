import ArgumentParser
import Foundation
import HallpassClient
import HallpassCore

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The device side: get a code, show how to approve it, wait (push, with polling underneath), keep the token.",
        discussion: """
            On a terminal the code is shown large with a QR code of the verification URI and a countdown, and the
            token is saved with mode 0600 (default $XDG_CONFIG_HOME/hallpass/token-CLIENT.json); through a pipe the
            token response is printed. Exit codes: 0 approved, 1 error, 3 denied, 4 expired, 130 cancelled (Ctrl-C).
            """)

    @Option(help: "The server's issuer URL (default http://127.0.0.1:8080).") var server: String = "http://127.0.0.1:8080"
    @Option(name: .customLong("client-id"), help: "This device's client_id.") var clientID: String
    @Option(help: "Scopes to ask for, space-separated (default: the client's ceiling).") var scope: String?
    @Flag(help: "Machine-readable output: one JSON object per line on stdout (the token is printed, not saved).") var json = false
    @Flag(name: .customLong("no-qr"), help: "Do not draw the QR code.") var noQR = false
    @Flag(name: .customLong("no-push"), help: "Only poll; do not wait on the push channel.") var noPush = false
    @Flag(help: "Print the token response instead of saving it.") var print = false
    @Option(name: .customLong("token-file"), help: "Save the token response here (mode 0600).") var tokenFile: String?
    @Option(help: "Only this user may approve the request (login_hint; others are told the code does not exist). With a client secret, the request goes straight to their inbox (CIBA) when the server offers it.") var user: String?
    @Flag(name: .customLong("client-secret-stdin"), help: "Read this client's secret from standard input (a confidential client; needed for CIBA).")
    var clientSecretStdin = false
    @Flag(help: "Bind the tokens to a new key kept beside the token file (mode 0600), with DPoP (RFC 9449).") var dpop = false
    @Option(name: .customLong("dpop-alg"), help: "The DPoP key's algorithm: EdDSA (default) or ES256.") var dpopAlg: String = "EdDSA"

    static let deniedExit: Int32 = 3
    static let expiredExit: Int32 = 4
    static let cancelledExit: Int32 = 130

    func validate() throws {
        try validateServerURL(server)
        if print, tokenFile != nil { throw ValidationError("--print and --token-file exclude each other") }
        if DPoPKey.Algorithm(rawValue: dpopAlg) == nil { throw ValidationError("--dpop-alg is EdDSA or ES256") }
    }

    func run() async throws {
        try await runReporting {
            let terminal = isatty(STDOUT_FILENO) == 1 && !json
            let cancel = CancelOnInterrupt(terminal: terminal)
            defer { cancel.disarm() }
            // The key lives beside the token file whether the token is saved or printed; a login
            // without --dpop removes an old one, so a refresh never binds tokens by surprise.
            let keyBeside = tokenFile ?? TokenFile.defaultPath(clientID: clientID)
            var key: DPoPKey?
            if dpop {
                key = DPoPKey.generate(DPoPKey.Algorithm(rawValue: dpopAlg) ?? .eddsa)
                try TokenFile.saveDPoPKey(key!, besideTokenFile: keyBeside)
            } else {
                try TokenFile.removeDPoPKey(besideTokenFile: keyBeside)
            }
            let secret = clientSecretStdin ? try readSecretFromStdin(what: "client secret") : nil
            let client = DeviceFlowClient(server: URL(string: server)!, clientID: clientID, clientSecret: secret, dpopKey: key)
            do {
                let codes: DeviceAuthorization
                var countdown: Task<Void, Never>?
                if let backchannel = try await backchannelRequest(client) {
                    codes = backchannel
                    announceBackchannel(codes)
                } else {
                    codes = try await client.authorize(scope: scope, loginHint: user)
                    let screen = DeviceScreen(codes: codes, server: server, terminal: terminal, showQR: !noQR)
                    if json { announceJSON(codes) } else { screen.announce() }
                    countdown = terminal ? screen.startCountdown() : nil
                }
                defer { countdown?.cancel() }
                let token = try await client.waitForToken(codes, push: noPush ? nil : WebSocketPushChannel()) { event in
                    if case .slowDown(let interval) = event, !json {
                        FileHandle.standardError.write(Data("\rhallpass: server asked to slow down; polling every \(interval)s\n".utf8))
                    }
                }
                countdown?.cancel()
                try deliver(token, terminal: terminal)
            } catch DeviceFlowError.denied {
                emit(event: "denied", message: "the request was denied", terminal: terminal)
                throw ExitCode(Login.deniedExit)
            } catch DeviceFlowError.expired {
                emit(event: "expired", message: "the code expired before anyone approved it", terminal: terminal)
                throw ExitCode(Login.expiredExit)
            } catch let error as DeviceFlowError {
                throw CLIError(TerminalText.sanitize(error.description))
            }
        }
    }

    /// CIBA (ARCHITECTURE.md §4.9): with `--user` and a client secret, ask the person directly
    /// when the server offers it. Nil (use a device code bound to `--user`) when there is no user
    /// or secret, or the server or this client cannot do it.
    private func backchannelRequest(_ client: DeviceFlowClient) async throws -> DeviceAuthorization? {
        guard let user, client.clientSecret != nil else { return nil }
        // A short message both screens show: four letters of the user-code alphabet.
        let letters = SystemRandomSource().uniform(below: UserCode.alphabet.count, count: 4).map { UserCode.alphabet[$0] }
        do {
            return try await client.backchannelAuthorize(scope: scope.map { $0.contains("openid") ? $0 : "openid " + $0 },
                                                         loginHint: user, bindingMessage: "HP-" + String(letters))
        } catch DeviceFlowError.oauth(let code, _) where ["unsupported", "unauthorized_client", "invalid_client"].contains(code) {
            return nil
        }
    }

    private func announceBackchannel(_ request: DeviceAuthorization) {
        let message = request.bindingMessage ?? ""
        if json {
            let object: [String: Any] = ["event": "backchannel", "user": user ?? "", "binding_message": message, "expires_in": request.expires_in]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) { writeOut(String(decoding: data, as: UTF8.self)) }
        } else {
            writeOut("Asked \(TerminalText.sanitize(user ?? "")) to approve on their Hallpass screen.\n"
                     + "Check that it shows: \(message)\nWaiting (the request expires in \(request.expires_in / 60) minutes)…")
        }
    }

    /// Prints the token response (scripts, pipes, `--print`) or saves it with mode 0600.
    private func deliver(_ token: TokenResponse, terminal: Bool) throws {
        if json {
            let object = (try? JSONSerialization.jsonObject(with: token.raw)) as? [String: Any] ?? [:]
            let line = try JSONSerialization.data(withJSONObject: ["event": "approved", "token": object], options: [.sortedKeys])
            writeOut(String(decoding: line, as: UTF8.self))
            return
        }
        if print || (tokenFile == nil && !terminal) {
            writeOut((terminal ? "\r\u{1B}[K" : "") + "Approved. Token response:")
            writeOut(String(decoding: token.raw, as: UTF8.self))
            return
        }
        let path = tokenFile ?? TokenFile.defaultPath(clientID: clientID)
        try TokenFile.save(token.raw, to: path)
        writeOut((terminal ? "\r\u{1B}[K" : "") + "Approved. Token saved to \(path) (mode 0600).")
    }

    private func announceJSON(_ codes: DeviceAuthorization) {
        var object: [String: Any] = ["event": "code", "user_code": codes.user_code, "verification_uri": codes.verification_uri,
                                     "verification_uri_complete": codes.verification_uri_complete ?? "",
                                     "expires_in": codes.expires_in, "interval": codes.interval ?? 5]
        if let ssh = codes.sshConsent { object["ssh_command"] = ssh.command }
        if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            writeOut(String(decoding: data, as: UTF8.self))
        }
    }

    private func emit(event: String, message: String, terminal: Bool) {
        if json {
            writeOut("{\"event\":\"\(event)\"}")
        } else {
            FileHandle.standardError.write(Data(((terminal ? "\r\u{1B}[K" : "") + "hallpass: \(message)\n").utf8))
        }
    }
}
