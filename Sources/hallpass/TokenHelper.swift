import ArgumentParser
import Foundation
import HallpassClient
import HallpassCore

/// Which saved token a device-side command works on: `--token-file`, or the default file of
/// `--client-id`; the client_id, when not given, is the saved access token's own `client_id`.
struct SavedTokenOptions: ParsableArguments {
    @Option(help: "The server's issuer URL (default http://127.0.0.1:8080).") var server: String = "http://127.0.0.1:8080"
    @Option(name: .customLong("client-id"), help: "This device's client_id (default: the saved token's).") var clientID: String?
    @Option(name: .customLong("token-file"), help: "The saved token response (default $XDG_CONFIG_HOME/hallpass/token-CLIENT.json).")
    var tokenFile: String?

    func validate() throws {
        try validateServerURL(server)
        if clientID == nil, tokenFile == nil { throw ValidationError("give --client-id or --token-file") }
    }

    func keeper(minValid: TimeInterval = 60) throws -> TokenKeeper {
        let path = tokenFile ?? TokenFile.defaultPath(clientID: clientID ?? "")
        guard let id = clientID ?? Self.clientID(inTokenAt: path) else {
            throw CLIError("cannot tell the client_id from \(path): give --client-id")
        }
        let key: DPoPKey?
        do { key = try TokenFile.dpopKey(besideTokenFile: path) } catch {
            throw CLIError("\(TokenFile.dpopKeyPath(for: path)): \(error)")
        }
        return TokenKeeper(client: DeviceFlowClient(server: URL(string: server)!, clientID: id, dpopKey: key), path: path,
                           minValid: minValid)
    }

    static func clientID(inTokenAt path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path), let token = TokenResponse(json: data) else { return nil }
        return TokenKeeper.unverifiedClaims(of: token.accessToken)?["client_id"] as? String
    }
}

extension Token {
    /// `hallpass token`: a credential helper for scripts (`curl -H "Authorization: Bearer $(hallpass token …)"`).
    struct Current: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "print",
            abstract: "Print a currently valid access token from the saved token file, refreshing it first when it expires soon.",
            discussion: """
                Concurrent calls take turns on a lock beside the file, so the refresh token rotates once. Exit 1 when no valid \
                token can be had. With --url, print the request's headers instead, one per line: Authorization, and for a \
                DPoP-bound token (hallpass login --dpop) a DPoP proof for that method and URL, ready for \
                curl -H @<(hallpass token --url URL …) URL.
                """)

        @OptionGroup var saved: SavedTokenOptions
        @Option(name: .customLong("min-valid"), help: "Refresh when the token expires within this long, e.g. 60s or 5m.")
        var minValid: String = "60s"
        @Option(help: "Print the headers for a request to this URL (with a DPoP proof when the token is bound).") var url: String?
        @Option(help: "The request's method, for --url.") var method: String = "GET"

        func validate() throws {
            if let url, DPoPProof.normalizedURI(url) == nil { throw ValidationError("--url must be an absolute http(s) URL") }
            guard method.allSatisfy({ $0.isASCII && $0.isUppercase }), !method.isEmpty else {
                throw ValidationError("--method is an HTTP method in capitals, like GET or POST")
            }
        }

        func run() async throws {
            try await runReporting {
                guard let seconds = DurationText.parse(minValid) else { throw CLIError("--min-valid: not a duration, like 60s") }
                do {
                    let keeper = try saved.keeper(minValid: seconds)
                    guard let url else {
                        writeOut(try await keeper.accessToken().token)
                        return
                    }
                    for (name, value) in try await keeper.authorizationHeaders(method: method, url: url) {
                        writeOut("\(name): \(value)")
                    }
                } catch let failure as TokenKeeper.Failure {
                    throw CLIError(failure.description)
                } catch let failure as TokenFile.Failure {
                    throw CLIError(failure.description)
                }
            }
        }
    }
}

/// `hallpass logout`: revokes the saved refresh token (RFC 7009) and deletes the file.
struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Revoke the saved token (RFC 7009) and delete its file.")
    @OptionGroup var saved: SavedTokenOptions

    func run() async throws {
        try await runReporting {
            let keeper = try saved.keeper()
            do {
                try await keeper.logout()
            } catch let failure as TokenKeeper.Failure {
                throw CLIError(failure.description)
            } catch let failure as DeviceFlowError {
                throw CLIError("the server refused the revocation: \(failure)")
            }
            writeOut("Signed out: the token is revoked and \(keeper.path) deleted.")
        }
    }
}
