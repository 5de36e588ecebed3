import Foundation

/// How `ConsentProgram` performs the effects `update` returns: terminal effects at once, service
/// calls and the push watch as tasks that yield their outcome into the program's stream.
extension ConsentProgram {
    func perform(_ effects: [ConsentEffect]) {
        for effect in effects {
            switch effect {
            case .quit: state.finished = true
            case .wipeScreen: backend.wipe()
            case .unwatch:
                watchTask?.cancel()
                watchTask = nil
            case .watch(let code, let session):
                watchTask?.cancel()
                watchTask = follow(code: code, session: session)
            case .watchInbox(let session):
                inboxTask?.cancel()
                inboxTask = followInbox(session: session)
            case .unwatchInbox:
                inboxTask?.cancel()
                inboxTask = nil
            default: launch(effect)
            }
        }
    }

    private func launch(_ effect: ConsentEffect) {
        let service = self.service
        let feed = self.feed
        inFlight += 1
        Task {
            let message = await ConsentProgram.answer(effect, service: service)
            feed.yield(.effectFinished(message))
        }
    }

    /// Follows one request by push until news arrives, reconnecting after a dropped watch
    /// (250 ms, doubling to 4 s).
    private func follow(code: String, session: String) -> Task<Void, Never> {
        let service = self.service
        let feed = self.feed
        return Task {
            var pause: UInt64 = 250
            while !Task.isCancelled {
                if let update = await service.watch(code: code, session: session) {
                    if !Task.isCancelled { feed.yield(.message(.requestUpdated(code: code, update))) }
                    return
                }
                try? await Task.sleep(for: .milliseconds(pause))
                pause = min(pause * 2, 4_000)
            }
        }
    }

    /// Follows the inbox by push for as long as the session lasts, reconnecting after a
    /// dropped socket (250 ms, doubling to 8 s); stops when the service cannot push.
    private func followInbox(session: String) -> Task<Void, Never> {
        let service = self.service
        let feed = self.feed
        return Task {
            var pause: UInt64 = 250
            while !Task.isCancelled {
                let canPush = await service.watchInbox(session: session) { event in
                    guard !Task.isCancelled else { return }
                    feed.yield(.message(event == .live ? .inboxWatching(true) : .inboxChanged))
                }
                guard canPush, !Task.isCancelled else { return }
                feed.yield(.message(.inboxWatching(false)))
                try? await Task.sleep(for: .milliseconds(pause))
                pause = min(pause * 2, 8_000)
            }
        }
    }

    /// Performs one service effect and turns the outcome into the message `update` expects.
    static func answer(_ effect: ConsentEffect, service: any ConsentService) async -> ConsentMessage? {
        switch effect {
        case .login(let user, let password):
            do { return .loggedIn(try await service.login(user: user, password: password)) } catch { return .loginFailed(error) }
        case .lookup(let code, let session):
            do { return .lookedUp(try await service.lookup(code: code, session: session)) } catch { return .lookupFailed(error) }
        case .approve(let code, let scopes, let otp, let session):
            do { return .decided(try await service.approve(code: code, scopes: scopes, otp: otp, session: session)) } catch {
                return .decisionFailed(error)
            }
        case .verifyCode(let code, let session):
            do {
                try await service.verifyCode(code, session: session)
                return .codeVerified
            } catch { return .codeFailed(error) }
        case .enrollAuthenticator(let session):
            do { return .enrolmentStarted(try await service.enrollAuthenticator(session: session)) } catch { return .enrolmentFailed(error) }
        case .confirmAuthenticator(let code, let session):
            do { return .enrolmentConfirmed(recoveryCodes: try await service.confirmAuthenticator(code: code, session: session)) } catch {
                return .enrolmentFailed(error)
            }
        case .deny(let code, let session):
            do { return .decided(try await service.deny(code: code, session: session)) } catch { return .decisionFailed(error) }
        case .logout(let session):
            await service.logout(session: session)
            return nil
        case .listDevices(let session):
            do { return .devicesListed(try await service.devices(session: session)) } catch { return .devicesFailed(error) }
        case .revokeDevice(let id, let session):
            do {
                try await service.revokeDevice(id: id, session: session)
                return .deviceRevoked(id: id)
            } catch { return .devicesFailed(error) }
        case .listInbox(let session):
            do { return .inboxListed(try await service.inbox(session: session)) } catch { return .inboxFailed(error) }
        case .wipeScreen, .quit, .watch, .unwatch, .watchInbox, .unwatchInbox:
            return nil
        }
    }
}
