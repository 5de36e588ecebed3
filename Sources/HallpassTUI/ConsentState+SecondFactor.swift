import Foundation

/// The second factor on the consent screen (ARCHITECTURE.md §4.8): the code that finishes a
/// login, the fresh code a step-up approval asks for, and "Add an authenticator" (F3 on code
/// entry). Escape always leads back without deciding anything.
extension ConsentState {
    // MARK: messages

    mutating func secondFactorMessage(_ message: ConsentMessage) -> [ConsentEffect] {
        switch message {
        case .codeVerified:
            busy = nil
            unreachable = false
            codePrompt = nil
            session?.otpRequired = false
            if code.letters.count == 8 { return lookUp() }
            screen = .codeEntry
            return []
        case .codeFailed(let failure):
            busy = nil
            return promptFailed(failure)
        case .enrolmentStarted(let enrolment):
            busy = nil
            unreachable = false
            authenticator = AuthenticatorSetup(enrolment: enrolment)
            screen = .authenticator
            return []
        case .enrolmentConfirmed(let codes):
            busy = nil
            authenticator.recoveryCodes = codes
            authenticator.typed = ""
            authenticator.notice = nil
            return []
        case .enrolmentFailed(let failure):
            busy = nil
            if screen == .authenticator, case .wrongCode(let message) = failure {
                authenticator.typed = ""
                authenticator.notice = message
                return []
            }
            authenticator = AuthenticatorSetup()
            return failed(failure, retrying: retry)
        default:
            return []
        }
    }

    /// A failure while the code prompt is open (or an approval that turned out to need a code).
    mutating func promptFailed(_ failure: ConsentFailure) -> [ConsentEffect] {
        switch failure {
        case .wrongCode(let message):
            codePrompt?.typed = ""
            codePrompt?.notice = message
            return []
        case .codeRequired(let reason):
            let purpose: CodePrompt.Purpose = review != nil && session?.otpRequired != true ? .approval : .login
            codePrompt = CodePrompt(purpose: purpose, reason: reason)
            screen = .secondFactor
            return []
        case .loginLocked(let seconds), .tooManyCodes(let seconds):
            if codePrompt?.purpose == .approval {
                codePrompt = nil
                show(.tooMany(until: now.addingTimeInterval(TimeInterval(seconds))))
                return [.unwatch]
            }
            let effects = backToLogin(nil)
            login.notice = .locked(until: now.addingTimeInterval(TimeInterval(seconds)))
            return effects
        default:
            codePrompt = nil
            return failed(failure, retrying: retry)
        }
    }

    // MARK: keys

    mutating func secondFactorKey(_ key: Key) -> [ConsentEffect] {
        guard var prompt = codePrompt else { return backToLogin(.sessionExpired) }
        switch key {
        case .character(let c):
            if (c.isASCII && (c.isLetter || c.isNumber)) || c == "-" || c == " ", prompt.typed.count < CodePrompt.maxLength {
                prompt.typed.append(c)
                prompt.notice = nil
            }
        case .backspace, .delete:
            _ = prompt.typed.popLast()
        case .enter:
            guard let session else { return backToLogin(.sessionExpired) }
            let typed = prompt.typed.filter { $0 != " " }
            guard !typed.isEmpty else { return [] }
            codePrompt = prompt
            switch prompt.purpose {
            case .login:
                let effect = ConsentEffect.verifyCode(code: typed, session: session.session)
                busy = .checkingCode
                retry = effect
                return [effect]
            case .approval:
                guard let review else { return [] }
                let effect = ConsentEffect.approve(code: review.request.userCode, scopes: review.chosenScopes, otp: typed,
                                                   session: session.session)
                busy = .deciding
                retry = effect
                return [effect]
            }
        case .escape:
            codePrompt = nil
            if prompt.purpose == .approval, review != nil {
                screen = .consent
                return []
            }
            if kiosk { return resetKiosk(notice: nil) }
            return backToLogin(nil)
        default:
            break
        }
        codePrompt = prompt
        return []
    }

    /// F3 on code entry: a new authenticator for the logged-in user.
    mutating func startEnrolment() -> [ConsentEffect] {
        guard let session else { return backToLogin(.sessionExpired) }
        authenticator = AuthenticatorSetup()
        let effect = ConsentEffect.enrollAuthenticator(session: session.session)
        busy = .enrolling
        retry = effect
        return [effect]
    }

    mutating func authenticatorKey(_ key: Key) -> [ConsentEffect] {
        if authenticator.recoveryCodes != nil {
            // The recovery codes are shown once; any of these keys leaves them for good.
            if key == .enter || key == .escape {
                authenticator = AuthenticatorSetup()
                screen = .codeEntry
            }
            return []
        }
        switch key {
        case .character(let c):
            if c.isASCII, c.isNumber, authenticator.typed.count < 6 {
                authenticator.typed.append(c)
                authenticator.notice = nil
            }
        case .backspace, .delete:
            _ = authenticator.typed.popLast()
        case .enter:
            guard let session else { return backToLogin(.sessionExpired) }
            guard authenticator.typed.count == 6 else { return [] }
            let effect = ConsentEffect.confirmAuthenticator(code: authenticator.typed, session: session.session)
            busy = .enrolling
            retry = effect
            return [effect]
        case .escape:
            authenticator = AuthenticatorSetup()
            screen = .codeEntry
        default:
            break
        }
        return []
    }
}
