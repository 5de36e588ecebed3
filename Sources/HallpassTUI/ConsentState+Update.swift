import Foundation

/// The pure heart of the consent front (Bubble Tea's `update`): a message in, the new state and
/// the effects to perform out. No I/O happens here, so every transition has a unit test.
extension ConsentState {
    public mutating func update(_ message: ConsentMessage) -> [ConsentEffect] {
        switch message {
        case .key(let key):
            lastInput = now
            return handle(key)
        case .tick(let time):
            now = time
            return tick() + inboxTick()
        case .loggedIn(let login):
            busy = nil
            unreachable = false
            session = login
            self.login = LoginForm()
            if login.otpRequired {
                codePrompt = CodePrompt(purpose: .login)
                screen = .secondFactor
                return []
            }
            if code.letters.count == 8 { return lookUp() }
            screen = .codeEntry
            return []
        case .loginFailed(let failure):
            busy = nil
            login.password = ""
            login.focus = .password
            switch failure {
            case .unreachable: return offline(retrying: nil)
            case .loginLocked(let seconds): login.notice = .locked(until: now.addingTimeInterval(TimeInterval(seconds)))
            default: login.notice = .wrong
            }
            return []
        case .lookedUp(let request):
            busy = nil
            unreachable = false
            review = Review(request: request, selected: Array(repeating: true, count: request.scopes.count),
                            receivedAt: now, expiresAt: now.addingTimeInterval(TimeInterval(request.expiresIn)))
            screen = .consent
            guard let session else { return [] }
            return [.watch(code: request.userCode, session: session.session)]
        case .devicesListed(let devices):
            busy = nil
            unreachable = false
            deviceList.devices = devices
            deviceList.focus = min(deviceList.focus, max(0, devices.count - 1))
            deviceList.confirming = false
            screen = .devices
            return []
        case .deviceRevoked:
            busy = nil
            let name = deviceList.devices.indices.contains(deviceList.focus) ? deviceList.devices[deviceList.focus].clientName : nil
            deviceList.revoked = name
            guard let session else { return backToLogin(.sessionExpired) }
            busy = .loadingDevices
            return [.listDevices(session: session.session)]
        case .devicesFailed(let failure):
            busy = nil
            deviceList.confirming = false
            return failed(failure, retrying: retry)
        case .requestUpdated(let code, let update):
            // Another screen or a script decided, or time ran out: this screen must not go stale.
            guard let review, review.request.userCode == code,
                  screen == .consent || screen == .denyConfirm || (screen == .secondFactor && codePrompt?.purpose == .approval),
                  busy != .deciding else { return [] }
            codePrompt = nil
            switch update {
            case .approved: show(.decidedElsewhere(approved: true))
            case .denied: show(.decidedElsewhere(approved: false))
            case .expired: show(.expired)
            }
            return [.unwatch]
        case .lookupFailed(let failure):
            busy = nil
            return failed(failure, retrying: retry)
        case .decided(let decision):
            busy = nil
            unreachable = false
            show(decision.approved ? .approved(scopes: decision.scopes) : .denied)
            return [.unwatch]
        case .codeVerified, .codeFailed, .enrolmentStarted, .enrolmentConfirmed, .enrolmentFailed:
            return secondFactorMessage(message)
        case .inboxListed, .inboxFailed, .inboxWatching, .inboxChanged:
            return inboxMessage(message)
        case .decisionFailed(let failure):
            busy = nil
            switch failure {
            case .codeRequired, .wrongCode, .loginLocked, .tooManyCodes:
                if screen == .secondFactor || failure.isCodeRequired { return promptFailed(failure) }
            default:
                break
            }
            if screen == .secondFactor { codePrompt = nil }
            if failure == .alreadyDecided, let review {
                show(review.expiresAt <= now ? .expired : .alreadyUsed)
                return [.unwatch]
            }
            return failed(failure, retrying: retry)
        }
    }

    // MARK: time

    private mutating func tick() -> [ConsentEffect] {
        if kiosk, now.timeIntervalSince(lastInput) >= idleTimeout, screen != .login || !login.name.isEmpty || !login.password.isEmpty {
            return resetKiosk(notice: .idle)
        }
        switch screen {
        case .consent, .denyConfirm:
            if let review, busy == nil, review.expiresAt <= now {
                show(.expired)
                return [.unwatch]
            }
        case .result:
            if let outcomeAt, now.timeIntervalSince(outcomeAt) >= resultDisplay { return finishResult() }
        case .login:
            if case .locked(let until) = login.notice, until <= now { login.notice = nil }
        case .secondFactor:
            // A step-up prompt ends with its request.
            if codePrompt?.purpose == .approval, let review, busy == nil, review.expiresAt <= now {
                codePrompt = nil
                show(.expired)
                return [.unwatch]
            }
        case .codeEntry, .devices, .authenticator, .inbox:
            break
        }
        return []
    }

    // MARK: effects and their failures

    mutating func lookUp() -> [ConsentEffect] {
        guard let session else { return backToLogin(.sessionExpired) }
        let effect = ConsentEffect.lookup(code: String(code.letters), session: session.session)
        busy = .lookingUp
        retry = effect
        return [effect]
    }

    mutating func failed(_ failure: ConsentFailure, retrying effect: ConsentEffect?) -> [ConsentEffect] {
        switch failure {
        case .unreachable: return offline(retrying: effect)
        case .loginRequired: return backToLogin(.sessionExpired)
        case .invalidCode(let left): show(.invalid(guessesLeft: left))
        case .tooManyCodes(let seconds): show(.tooMany(until: now.addingTimeInterval(TimeInterval(seconds))))
        case .alreadyDecided: show(.alreadyUsed)
        case .wrongCredentials, .loginLocked: return backToLogin(.sessionExpired)
        case .codeRequired, .wrongCode: return promptFailed(failure)
        case .refused(let message): show(.refused(message))
        }
        return []
    }

    private mutating func offline(retrying effect: ConsentEffect?) -> [ConsentEffect] {
        unreachable = true
        retry = effect
        return []
    }

    mutating func show(_ result: Outcome) {
        outcome = result
        outcomeAt = now
        screen = .result
        code = CodeEntry()
        if case .approved = result { review = nil } else if case .denied = result { review = nil }
    }

    /// Leaves a result: code entry for the next device, or in a kiosk a wiped login screen.
    mutating func finishResult() -> [ConsentEffect] {
        outcome = nil
        outcomeAt = nil
        review = nil
        if kiosk { return resetKiosk(notice: nil) }
        screen = .codeEntry
        return []
    }

    mutating func backToLogin(_ notice: LoginForm.Notice?) -> [ConsentEffect] {
        let effects = [ConsentEffect.unwatch] + (inbox.watching ? [.unwatchInbox] : [])
            + (session.map { [ConsentEffect.logout(session: $0.session)] } ?? [])
        let keep = login.name
        session = nil
        review = nil
        codePrompt = nil
        authenticator = AuthenticatorSetup()
        inbox = Inbox()
        outcome = nil
        busy = nil
        login = LoginForm()
        login.name = keep
        login.focus = keep.isEmpty ? .name : .password
        login.notice = notice
        screen = .login
        return effects
    }

    /// Kiosk: log out, forget everything typed, wipe the screen and scrollback.
    mutating func resetKiosk(notice: LoginForm.Notice?) -> [ConsentEffect] {
        var effects = [ConsentEffect.unwatch] + (inbox.watching ? [.unwatchInbox] : [])
            + (session.map { [ConsentEffect.logout(session: $0.session)] } ?? [])
        effects.append(.wipeScreen)
        session = nil
        review = nil
        codePrompt = nil
        authenticator = AuthenticatorSetup()
        inbox = Inbox()
        outcome = nil
        outcomeAt = nil
        busy = nil
        unreachable = false
        retry = nil
        showHelp = false
        code = CodeEntry()
        login = LoginForm()
        login.notice = notice
        screen = .login
        lastInput = now
        return effects
    }
}
