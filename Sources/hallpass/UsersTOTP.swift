import ArgumentParser
import Foundation
import HallpassClient
import HallpassCore
import HallpassServer
import HallpassStore
import HallpassTUI

/// `hallpass users totp …`: an administrator's side of people's authenticators (ARCHITECTURE.md
/// §4.8). Secrets are sealed with `totp_key_file`, which must be the running server's.
struct UsersTOTP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "totp",
        abstract: "A user's authenticator app (TOTP, RFC 6238): enrol, confirm, status, disable.",
        subcommands: [Enroll.self, Confirm.self, Status.self, Disable.self])

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new authenticator secret for a user: a QR code and the secret on a terminal, the otpauth URI otherwise.",
            discussion: "It counts once confirmed with one code: hallpass users totp confirm NAME CODE (or in the consent screen).")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @Flag(help: "Print {\"user\", \"secret\", \"otpauth_uri\"} as JSON.") var json = false

        func run() async throws {
            try await runReporting {
                let enrolment = try await withSecondFactor(store, user: name) { desk, user in
                    do {
                        return try await desk.enroll(user: user)
                    } catch let failure as SecondFactorDesk.Failure { throw CLIError(failure.description) }
                }
                if json {
                    let object = ["user": name, "secret": enrolment.secret, "otpauth_uri": enrolment.uri]
                    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
                    print(String(decoding: data, as: UTF8.self))
                } else if isatty(STDOUT_FILENO) == 1 {
                    var lines = ["Scan this with an authenticator app (or type the secret):", ""]
                    if let qr = QRCode(encoding: enrolment.uri) { lines += qr.halfBlockLines().map { "  " + $0 } + [""] }
                    lines += ["  secret: \(AuthenticatorEnrolment.grouped(enrolment.secret))", "  \(enrolment.uri)", "",
                              "Then confirm with one code: hallpass users totp confirm \(name) CODE"]
                    print(lines.joined(separator: "\n"))
                } else {
                    print(enrolment.uri)
                }
            }
        }
    }

    struct Confirm: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Confirm a user's new authenticator with the code it shows; prints the 10 recovery codes, once.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String
        @Argument var code: String

        func run() async throws {
            try await runReporting {
                let codes = try await withSecondFactor(store, user: name) { desk, user in
                    do {
                        return try await desk.confirm(user: user, code: code)
                    } catch let failure as SecondFactorDesk.Failure { throw CLIError(failure.description) }
                }
                print("confirmed: \(name) now gives a code from the authenticator at every consent login.")
                print("Recovery codes (each works once; keep them somewhere safe, they are not shown again):")
                for code in codes { print("  \(code)") }
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Whether a user has an authenticator, and recovery codes left.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String

        func run() async throws {
            try await runReporting {
                let record = try await withSecondFactor(store, user: name) { desk, user in try await desk.status(user) }
                guard let record else { return print("\(name): no authenticator") }
                guard let confirmed = record.confirmedAt else {
                    return print("\(name): enrolment started \(UsersTOTP.time(record.createdAt)), not confirmed (it does not count yet)")
                }
                print("\(name): authenticator confirmed \(UsersTOTP.time(confirmed)); \(record.recoveryCodesLeft) of "
                      + "\(RecoveryCode.batch) recovery codes left"
                      + (record.lastStep.map { "; last code used \(UsersTOTP.time(TOTPWindow.start(of: $0)))" } ?? ""))
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a user's authenticator and recovery codes (a lost phone); they log in with the password alone again.")
        @OptionGroup var store: StoreOptions
        @Argument var name: String

        func run() async throws {
            try await runReporting {
                guard try await withSecondFactor(store, user: name, { desk, user in try await desk.disable(user) }) else {
                    throw CLIError("\(TerminalText.sanitize(name)) has no authenticator")
                }
                print("removed the authenticator of \(name)")
            }
        }
    }

    static func time(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}

/// Runs `body` with the server's `SecondFactorDesk` (its store and `totp_key_file`) and the user.
private func withSecondFactor<Result: Sendable>(_ options: StoreOptions, user name: String,
                                               _ body: @Sendable (SecondFactorDesk, User) async throws -> Result) async throws -> Result {
    let settings = try options.serverSettings()
    let vault: TOTPVault
    do {
        vault = try TOTPVault.open(path: settings.effectiveTOTPKeyFile)
    } catch { throw CLIError("\(error)") }
    return try await options.withStore { store in
        guard let record = try await store.user(named: name) else { throw CLIError("no user named \(TerminalText.sanitize(name))") }
        let desk = SecondFactorDesk(authenticators: store, vault: vault,
                                    issuerName: AuthorizationServer.authenticatorIssuer)
        return try await body(desk, record.user)
    }
}
