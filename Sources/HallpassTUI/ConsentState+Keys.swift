/// Key handling, screen by screen. Deny is always one key away; Approve needs the focus moved
/// onto it first, so stray typing or a paste can never approve anything.
extension ConsentState {
    static let maxNameLength = 64
    static let maxPasswordLength = 256

    mutating func handle(_ key: Key) -> [ConsentEffect] {
        if case .control(let c) = key {
            if c == "c", !kiosk { return quit() }
            if c == "r", unreachable, let retry { return resend(retry) }
            return []   // kiosk: ^C, ^Z, ^\ and friends do nothing
        }
        if key == .function(5), unreachable, let retry { return resend(retry) }
        if showHelp {
            if key == .escape || key == .character("?") || key == .function(1) { showHelp = false }
            return []
        }
        if key == .function(1) || (key == .character("?") && screen != .login && screen != .secondFactor) {
            showHelp = true
            return []
        }
        guard busy == nil else { return [] }
        switch screen {
        case .login: return loginKey(key)
        case .codeEntry: return codeKey(key)
        case .consent: return consentKey(key)
        case .denyConfirm: return denyConfirmKey(key)
        case .result:
            if key == .enter || key == .escape || key == .character(" ") { return finishResult() }
            return []
        case .devices: return devicesKey(key)
        case .secondFactor: return secondFactorKey(key)
        case .authenticator: return authenticatorKey(key)
        case .inbox: return inboxKey(key)
        }
    }

    private mutating func quit() -> [ConsentEffect] {
        finished = true
        return (session.map { [ConsentEffect.logout(session: $0.session)] } ?? []) + [.quit]
    }

    private mutating func resend(_ effect: ConsentEffect) -> [ConsentEffect] {
        unreachable = false
        switch effect {
        case .login: busy = .loggingIn
        case .lookup: busy = .lookingUp
        case .approve, .deny: busy = .deciding
        case .verifyCode: busy = .checkingCode
        case .enrollAuthenticator, .confirmAuthenticator: busy = .enrolling
        case .listDevices: busy = .loadingDevices
        case .revokeDevice: busy = .revoking
        default: break
        }
        return [effect]
    }

    // MARK: login

    private mutating func loginKey(_ key: Key) -> [ConsentEffect] {
        switch key {
        case .character(let c):
            if login.focus == .name, login.name.count < Self.maxNameLength, c != " " { login.name.append(c) }
            if login.focus == .password, login.password.count < Self.maxPasswordLength { login.password.append(c) }
        case .backspace, .delete:
            if login.focus == .name { _ = login.name.popLast() } else { _ = login.password.popLast() }
        case .tab, .backTab, .up, .down:
            login.focus = login.focus == .name ? .password : .name
        case .enter:
            if login.focus == .name, login.password.isEmpty, !login.name.isEmpty {
                login.focus = .password
                return []
            }
            if case .locked(let until) = login.notice, until > now { return [] }
            guard !login.name.isEmpty, !login.password.isEmpty else {
                login.notice = .empty
                return []
            }
            login.notice = nil
            busy = .loggingIn
            unreachable = false
            return [.login(user: login.name, password: login.password)]
        case .escape:
            if kiosk {
                login = LoginForm()
                return []
            }
            return quit()
        default:
            break
        }
        return []
    }

    // MARK: code entry

    private mutating func codeKey(_ key: Key) -> [ConsentEffect] {
        switch key {
        case .character(let c):
            let (letters, rejected) = CodeLetters.accept(String(c))
            if let rejected {
                code.notice = .badCharacter(rejected)
                return []
            }
            code.notice = nil
            for letter in letters where code.letters.count < 8 { code.letters.append(letter) }
        case .backspace, .delete:
            _ = code.letters.popLast()
            code.notice = nil
        case .enter:
            guard code.letters.count == 8 else {
                code.notice = .incomplete
                return []
            }
            return lookUp()
        case .escape:
            if kiosk { return resetKiosk(notice: nil) }
            return backToLogin(nil)
        case .tab, .function(2):
            return openDevices()
        case .function(3):
            return startEnrolment()
        case .function(4):
            return openInbox()
        default:
            break
        }
        return []
    }

    // MARK: your devices

    /// Tab on code entry: the logged-in user's live grants.
    mutating func openDevices() -> [ConsentEffect] {
        guard let session else { return backToLogin(.sessionExpired) }
        deviceList = DeviceList()
        let effect = ConsentEffect.listDevices(session: session.session)
        busy = .loadingDevices
        retry = effect
        return [effect]
    }

    private mutating func devicesKey(_ key: Key) -> [ConsentEffect] {
        if deviceList.confirming {
            switch key {
            case .tab, .backTab, .left, .right, .up, .down:
                deviceList.confirmFocusRevoke.toggle()
            case .enter:
                guard deviceList.confirmFocusRevoke else {
                    deviceList.confirming = false
                    return []
                }
                guard let session else { return backToLogin(.sessionExpired) }
                let device = deviceList.devices[deviceList.focus]
                let effect = ConsentEffect.revokeDevice(id: device.id, session: session.session)
                busy = .revoking
                retry = effect
                return [effect]
            case .escape:
                deviceList.confirming = false
            default:
                break
            }
            return []
        }
        switch key {
        case .down, .tab:
            if !deviceList.devices.isEmpty { deviceList.focus = (deviceList.focus + 1) % deviceList.devices.count }
        case .up, .backTab:
            if !deviceList.devices.isEmpty { deviceList.focus = (deviceList.focus + deviceList.devices.count - 1) % deviceList.devices.count }
        case .enter, .character("r"), .delete:
            guard !deviceList.devices.isEmpty else { return [] }
            deviceList.confirming = true
            deviceList.confirmFocusRevoke = false     // Keep has the focus first
            deviceList.revoked = nil
        case .escape:
            screen = .codeEntry
            deviceList = DeviceList()
        default:
            break
        }
        return []
    }

    // MARK: consent

    private mutating func consentKey(_ key: Key) -> [ConsentEffect] {
        if key == .escape {
            // Back without deciding: the request stays pending for another look.
            review = nil
            code = CodeEntry()
            screen = .codeEntry
            return [.unwatch]
        }
        guard var review else { return [] }
        defer { self.review = review }
        let count = review.request.scopes.count
        let order: [Review.Focus] = (0..<count).map { .scope($0) } + [.deny, .approve]
        let index = order.firstIndex(of: review.focus) ?? count
        switch key {
        case .tab, .down:
            review.focus = order[(index + 1) % order.count]
        case .backTab, .up:
            review.focus = order[(index + order.count - 1) % order.count]
        case .left:
            review.focus = .deny
        case .right:
            review.focus = .approve
        case .character(" "):
            if case .scope(let i) = review.focus { review.selected[i].toggle(); review.needsScope = false }
        case .enter:
            switch review.focus {
            case .scope(let i):
                review.selected[i].toggle()
                review.needsScope = false
            case .deny:
                review.confirmFocusYes = true
                screen = .denyConfirm
            case .approve:
                guard let session else { return backToLogin(.sessionExpired) }
                let scopes = review.chosenScopes
                if count > 0, scopes.isEmpty {
                    review.needsScope = true
                    return []
                }
                let effect = ConsentEffect.approve(code: review.request.userCode, scopes: scopes, otp: nil, session: session.session)
                busy = .deciding
                retry = effect
                return [effect]
            }
        default:
            break
        }
        return []
    }

    private mutating func denyConfirmKey(_ key: Key) -> [ConsentEffect] {
        guard var review else { return [] }
        switch key {
        case .tab, .backTab, .left, .right, .up, .down:
            review.confirmFocusYes.toggle()
            self.review = review
        case .enter:
            guard review.confirmFocusYes else {
                screen = .consent
                return []
            }
            guard let session else { return backToLogin(.sessionExpired) }
            let effect = ConsentEffect.deny(code: review.request.userCode, session: session.session)
            busy = .deciding
            retry = effect
            return [effect]
        case .escape:
            screen = .consent
        default:
            break
        }
        return []
    }
}
