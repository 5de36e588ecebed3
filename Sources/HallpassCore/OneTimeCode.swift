/// What a person typed where a second factor is asked (ARCHITECTURE.md §4.8): the six digits an
/// authenticator app shows (RFC 6238, SHA-1, 30 s), or one of their recovery codes. Spaces and
/// dashes are ignored, so `123 456` and `ABCD-EFGH-JKMN-PQRS` are both read.
public enum OneTimeCode: Equatable, Sendable {
    /// Exactly `TOTPWindow.digits` ASCII digits.
    case totp(String)
    /// A recovery code, normalized (`RecoveryCode.normalize`).
    case recovery(String)

    public init(parsing text: String) throws(OneTimeCodeError) {
        let kept = text.filter { $0 != " " && $0 != "-" && $0 != "\t" }
        guard !kept.isEmpty else { throw .empty }
        if kept.allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard kept.count == TOTPWindow.digits else { throw .wrongLength }
            self = .totp(kept)
            return
        }
        guard let recovery = RecoveryCode.normalize(kept) else { throw .notACode }
        self = .recovery(recovery)
    }
}

public enum OneTimeCodeError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty, wrongLength, notACode

    public var description: String {
        switch self {
        case .empty: "type the code your authenticator app shows"
        case .wrongLength: "a code from an authenticator app has \(TOTPWindow.digits) digits"
        case .notACode: "not a code: type the \(TOTPWindow.digits) digits your authenticator shows, or a recovery code (xxxx-xxxx-xxxx-xxxx)"
        }
    }
}
