import ArgumentParser
import Foundation
import HallpassClient
import HallpassCore

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The device side: get a code, wait for approval, print the token response.",
        discussion: "Exit codes: 0 approved, 1 error, 3 denied, 4 expired.")

    @Option(help: "The server's issuer URL (default http://127.0.0.1:8080).") var server: String = "http://127.0.0.1:8080"
    @Option(name: .customLong("client-id"), help: "This device's client_id.") var clientID: String
    @Option(help: "Scopes to ask for, space-separated (default: the client's ceiling).") var scope: String?
    @Flag(help: "Machine-readable output: one JSON object per line on stdout.") var json = false

    static let deniedExit: Int32 = 3
    static let expiredExit: Int32 = 4

    func run() async throws {
        try await runReporting {
            guard let url = URL(string: server), url.scheme == "http" || url.scheme == "https" else {
                throw CLIError("--server must be an http(s) URL", exitCode: 64)
            }
            let client = DeviceFlowClient(server: url, clientID: clientID)
            do {
                let codes = try await client.authorize(scope: scope)
                announce(codes)
                let token = try await client.waitForToken(codes, push: WebSocketPushChannel()) { event in
                    if case .slowDown(let interval) = event, !json {
                        FileHandle.standardError.write(Data("hallpass: server asked to slow down; polling every \(interval)s\n".utf8))
                    }
                }
                if json {
                    let object = (try? JSONSerialization.jsonObject(with: token.raw)) as? [String: Any] ?? [:]
                    let line = try JSONSerialization.data(withJSONObject: ["event": "approved", "token": object], options: [.sortedKeys])
                    writeOut(String(decoding: line, as: UTF8.self))
                } else {
                    writeOut("Approved. Token response:")
                    writeOut(String(decoding: token.raw, as: UTF8.self))
                }
            } catch DeviceFlowError.denied {
                emit(event: "denied", message: "the request was denied")
                throw ExitCode(Login.deniedExit)
            } catch DeviceFlowError.expired {
                emit(event: "expired", message: "the code expired before anyone approved it")
                throw ExitCode(Login.expiredExit)
            } catch let error as DeviceFlowError {
                throw CLIError(TerminalText.sanitize(error.description))
            }
        }
    }

    private func announce(_ codes: DeviceAuthorization) {
        if json {
            let object: [String: Any] = ["event": "code", "user_code": codes.user_code, "verification_uri": codes.verification_uri,
                                         "verification_uri_complete": codes.verification_uri_complete ?? "",
                                         "expires_in": codes.expires_in, "interval": codes.interval ?? 5]
            if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
                writeOut(String(decoding: data, as: UTF8.self))
            }
        } else {
            writeOut("""
                To approve this device, enter the code

                    \(TerminalText.sanitize(codes.user_code))

                with:  hallpass approve --server \(server)
                (or see \(TerminalText.sanitize(codes.verification_uri)))
                The code expires in \(codes.expires_in / 60) minutes. Waiting…
                """)
        }
    }

    private func emit(event: String, message: String) {
        if json {
            writeOut("{\"event\":\"\(event)\"}")
        } else {
            FileHandle.standardError.write(Data("hallpass: \(message)\n".utf8))
        }
    }
}
