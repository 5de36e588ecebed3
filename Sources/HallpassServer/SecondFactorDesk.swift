import Foundation
import HallpassCore
import HallpassStore
import HummingbirdOTP

/// People's authenticators (ARCHITECTURE.md §4.8): enrolment, confirmation with recovery codes,
/// checking a code (RFC 6238 through HummingbirdOTP's HOTP, the window and replay rules of
/// `TOTPWindow`), and removal. Budgets are the caller's (`ConsentDesk`); the admin CLI uses this
/// directly.
public struct SecondFactorDesk: Sendable {
    let authenticators: any AuthenticatorStore
    let vault: TOTPVault
    let clock: any WallClock
    let random: any RandomSource
    /// Who the authenticator app says the code is for (the otpauth `issuer`).
    let issuerName: String

    public init(authenticators: any AuthenticatorStore, vault: TOTPVault, clock: any WallClock = SystemClock(),
                random: any RandomSource = SystemRandomSource(), issuerName: String) {
        self.authenticators = authenticators
        self.vault = vault
        self.clock = clock
        self.random = random
        self.issuerName = issuerName
    }

    /// What an enrolment shows once: the secret in base32 for typing, and the otpauth URI (the
    /// Key URI Format every authenticator app reads) for a QR code.
    public struct Enrolment: Codable, Equatable, Sendable {
        public var secret: String
        public var uri: String
    }

    public enum Verification: Equatable, Sendable {
        case accepted(recoveryCode: Bool)
        case replayed
        case wrong
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case alreadyEnrolled, notEnrolling, wrongCode
        public var description: String {
            switch self {
            case .alreadyEnrolled: "an authenticator is already confirmed for this user; disable it first to enrol another"
            case .notEnrolling: "no enrolment is waiting for confirmation; enrol first"
            case .wrongCode: "that code does not match the new authenticator (check the phone's clock, and use the current code)"
            }
        }
    }

    /// A fresh secret: 25 bytes of 7 random bits each (175 bits, RFC 4226 §4 asks at least 128
    /// and recommends 160). HummingbirdOTP keys its HMAC with the secret string's UTF-8, so every
    /// byte is ASCII: the bytes the app decodes from base32 are exactly the key used here.
    /// Replaces an enrolment not yet confirmed.
    public func enroll(user: User) async throws -> Enrolment {
        let secret = random.bytes(25).map { $0 & 0x7F }
        guard try await authenticators.beginEnrolment(userID: user.id, sealedSecret: try vault.seal(secret, userID: user.id),
                                                      at: clock.now)
        else { throw Failure.alreadyEnrolled }
        let uri = TOTP(secret: Self.text(secret)).createAuthenticatorURL(label: "\(issuerName):\(user.name)", issuer: issuerName)
        let base32 = URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value ?? ""
        return Enrolment(secret: base32, uri: uri)
    }

    /// Confirms the waiting enrolment with a current code; answers the recovery codes, shown once.
    public func confirm(user: User, code: String) async throws -> [String] {
        guard let record = try await authenticators.authenticator(userID: user.id), record.confirmedAt == nil
        else { throw Failure.notEnrolling }
        guard case .totp(let digits)? = try? OneTimeCode(parsing: code) else { throw Failure.wrongCode }
        let secret = try vault.open(record.sealedSecret, userID: user.id)
        guard case .accepted(let step) = TOTPWindow.check(digits, at: clock.now, lastUsedStep: nil, code: Self.codes(secret))
        else { throw Failure.wrongCode }
        let codes = RecoveryCode.generate(using: random)
        guard try await authenticators.confirmAuthenticator(userID: user.id, step: step, recoveryHashes: codes.compactMap(RecoveryCode.hash),
                                                            at: clock.now)
        else { throw Failure.notEnrolling }
        return codes
    }

    /// Whether `user` has a confirmed authenticator (only a confirmed one is ever asked for).
    public func isEnrolled(_ user: User) async throws -> Bool {
        try await authenticators.authenticator(userID: user.id)?.confirmedAt != nil
    }

    /// Checks a code against the user's confirmed authenticator: a TOTP code once per step
    /// (recorded by a conditional update, so replicas agree), a recovery code once.
    public func verify(user: User, code: OneTimeCode) async throws -> Verification {
        guard let record = try await authenticators.authenticator(userID: user.id), record.confirmedAt != nil else { return .wrong }
        let now = clock.now
        switch code {
        case .totp(let digits):
            let secret = try vault.open(record.sealedSecret, userID: user.id)
            switch TOTPWindow.check(digits, at: now, lastUsedStep: record.lastStep, code: Self.codes(secret)) {
            case .accepted(let step):
                return try await authenticators.useStep(userID: user.id, step: step) ? .accepted(recoveryCode: false) : .replayed
            case .replayed: return .replayed
            case .wrong: return .wrong
            }
        case .recovery(let normalized):
            return try await authenticators.useRecoveryCode(userID: user.id, hash: SecretToken.hash(normalized), at: now)
                ? .accepted(recoveryCode: true) : .wrong
        }
    }

    public func status(_ user: User) async throws -> AuthenticatorRecord? {
        try await authenticators.authenticator(userID: user.id)
    }

    public func disable(_ user: User) async throws -> Bool {
        try await authenticators.removeAuthenticator(userID: user.id)
    }

    /// The code of one step: RFC 4226 HOTP with the step as counter is RFC 6238 TOTP (§4.2).
    static func codes(_ secret: [UInt8]) -> (Int64) -> String {
        let hotp = HOTP(secret: text(secret), length: TOTPWindow.digits, hashFunction: .sha1)
        return { step in TOTPWindow.format(hotp.compute(counter: UInt64(step))) }
    }

    static func text(_ secret: [UInt8]) -> String { String(decoding: secret, as: UTF8.self) }
}
