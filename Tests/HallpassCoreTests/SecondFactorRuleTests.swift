import Crypto
import Foundation
import Testing
@testable import HallpassCore

/// The second factor's pure rules (ARCHITECTURE.md §4.8). Codes here come from an HOTP written
/// in the test from RFC 4226 §5.3, independent of the one the server uses (HummingbirdOTP).
@Suite struct SecondFactorRuleTests {
    /// RFC 4226 §5.3 with HMAC-SHA-1, six digits.
    static func hotp(_ key: [UInt8], _ counter: Int64) -> String {
        var big = UInt64(counter).bigEndian
        let message = withUnsafeBytes(of: &big) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: key)))
        let offset = Int(mac[19] & 0x0F)
        let value = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        return TOTPWindow.format(Int(value % 1_000_000))
    }

    static let rfcKey = Array("12345678901234567890".utf8)

    @Test func stepsAreThirtySecondsFromTheEpoch() {
        #expect(TOTPWindow.step(at: Date(timeIntervalSince1970: 59)) == 1)
        #expect(TOTPWindow.step(at: Date(timeIntervalSince1970: 1_111_111_109)) == 37_037_036)
        #expect(TOTPWindow.step(at: Date(timeIntervalSince1970: 1_111_111_111)) == 37_037_037)
        #expect(TOTPWindow.step(at: Date(timeIntervalSince1970: 20_000_000_000)) == 666_666_666)
        #expect(TOTPWindow.start(of: 2) == Date(timeIntervalSince1970: 60))
        #expect(TOTPWindow.format(7) == "000007")
    }

    /// RFC 6238 Appendix B, SHA-1 rows: the last six of its eight digits.
    @Test func appendixBVectorsThroughTheWindow() {
        let vectors: [(TimeInterval, String)] = [(59, "287082"), (1_111_111_109, "081804"), (1_111_111_111, "050471"),
                                                 (1_234_567_890, "005924"), (2_000_000_000, "279037"), (20_000_000_000, "353130")]
        for (time, code) in vectors {
            let now = Date(timeIntervalSince1970: time)
            #expect(TOTPWindow.check(code, at: now, lastUsedStep: nil) { Self.hotp(Self.rfcKey, $0) }
                    == .accepted(step: TOTPWindow.step(at: now)), "at \(time)")
        }
    }

    @Test func oneStepEitherSideAndNoFurther() {
        let now = Date(timeIntervalSince1970: 1_800_000_015)    // mid-step
        let step = TOTPWindow.step(at: now)
        let code = { (s: Int64) in Self.hotp(Self.rfcKey, s) }
        #expect(TOTPWindow.check(code(step - 1), at: now, lastUsedStep: nil, code: code) == .accepted(step: step - 1))
        #expect(TOTPWindow.check(code(step + 1), at: now, lastUsedStep: nil, code: code) == .accepted(step: step + 1))
        #expect(TOTPWindow.check(code(step - 2), at: now, lastUsedStep: nil, code: code) == .wrong)
        #expect(TOTPWindow.check(code(step + 2), at: now, lastUsedStep: nil, code: code) == .wrong)
        // At the edges of a step: the last second of one and the first of the next.
        let start = TOTPWindow.start(of: step)
        #expect(TOTPWindow.check(code(step - 2), at: start.addingTimeInterval(-1), lastUsedStep: nil, code: code) == .accepted(step: step - 2))
        #expect(TOTPWindow.check(code(step - 2), at: start, lastUsedStep: nil, code: code) == .wrong)
    }

    @Test func aStepIsUsedOnceAndNeverAnEarlierOne() {
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let step = TOTPWindow.step(at: now)
        let code = { (s: Int64) in Self.hotp(Self.rfcKey, s) }
        #expect(TOTPWindow.check(code(step), at: now, lastUsedStep: step, code: code) == .replayed)
        #expect(TOTPWindow.check(code(step - 1), at: now, lastUsedStep: step, code: code) == .replayed)
        #expect(TOTPWindow.check(code(step), at: now, lastUsedStep: step - 1, code: code) == .accepted(step: step))
        #expect(TOTPWindow.check("000000" == code(step) ? "111111" : "000000", at: now, lastUsedStep: nil, code: code) == .wrong)
    }

    @Test func whatAPersonTypesIsReadAsOneKindOfCode() throws {
        #expect(try OneTimeCode(parsing: "123 456") == .totp("123456"))
        #expect(try OneTimeCode(parsing: " 123-456 ") == .totp("123456"))
        #expect(try OneTimeCode(parsing: "ABCD-EFGH-JKMN-PQRS") == .recovery("abcdefghjkmnpqrs"))
        #expect(throws: OneTimeCodeError.wrongLength) { try OneTimeCode(parsing: "12345") }
        #expect(throws: OneTimeCodeError.wrongLength) { try OneTimeCode(parsing: "1234567") }
        #expect(throws: OneTimeCodeError.empty) { try OneTimeCode(parsing: " - ") }
        #expect(throws: OneTimeCodeError.notACode) { try OneTimeCode(parsing: "abcd-efgh-ijkl-mnop") }   // i, l, o are not in it
        #expect(throws: OneTimeCodeError.notACode) { try OneTimeCode(parsing: "１２３４５６") }   // fullwidth digits
    }

    @Test func recoveryCodesAreTenDistinctEightyBitCodes() {
        let codes = RecoveryCode.generate(using: SeededRandomSource(seed: 7))
        #expect(codes.count == 10)
        #expect(Set(codes).count == 10)
        for code in codes {
            #expect(code.count == 19 && code.split(separator: "-").count == 4, "\(code)")
            #expect(RecoveryCode.normalize(code)?.count == 16)
            #expect(RecoveryCode.hash(code) == RecoveryCode.hash(code.uppercased().replacingOccurrences(of: "-", with: " ")))
        }
        #expect(RecoveryCode.alphabet.count == 32)
    }

    @Test func methodsGainOTPAndMFAOnce() {
        #expect(AuthenticationContext.adding("otp", to: ["pwd"]) == ["pwd", "otp", "mfa"])
        #expect(AuthenticationContext.adding("otp", to: ["pwd", "otp", "mfa"]) == ["pwd", "otp", "mfa"])
        #expect(AuthenticationContext.adding("otp", to: ["swk"]) == ["swk", "otp", "mfa"])
        #expect(AuthenticationContext.adding("otp", to: []) == ["otp"])
        #expect(AuthenticationContext.methods(stored: "pwd otp mfa") == ["pwd", "otp", "mfa"])
        #expect(AuthenticationContext.methods(stored: nil) == [])
    }

    @Test func stepUpAsksAFreshCodeAndARequiringClientAnyCode() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let risky: Set<String> = ["admin"]
        func demand(_ scopes: [String], client: Bool = false, otpAt: Date?) -> SecondFactorDemand? {
            SecondFactorDemand.demand(approving: ScopeSet(scopes), stepUpScopes: risky, clientRequiresTOTP: client, sessionOTPAt: otpAt, now: now)
        }
        #expect(demand(["read"], otpAt: nil) == nil)
        #expect(demand(["read", "admin"], otpAt: nil) == .stepUp(scopes: ["admin"]))
        #expect(demand(["admin"], otpAt: now.addingTimeInterval(-300)) == nil)           // five minutes: still fresh
        #expect(demand(["admin"], otpAt: now.addingTimeInterval(-301)) == .stepUp(scopes: ["admin"]))
        #expect(demand(["read"], client: true, otpAt: nil) == .client)
        #expect(demand(["read"], client: true, otpAt: now.addingTimeInterval(-3600)) == nil)   // any code in the session
        #expect(demand(["admin"], client: true, otpAt: now.addingTimeInterval(-3600)) == .stepUp(scopes: ["admin"]))
        #expect(demand(["admin"], otpAt: now.addingTimeInterval(60)) == .stepUp(scopes: ["admin"]))   // from the future: not fresh
    }
}
