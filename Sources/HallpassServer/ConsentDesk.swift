import Foundation
import HallpassCore
import HallpassStore

/// The rules of the consent API (ARCHITECTURE.md §4.4), apart from HTTP: sessions, user-code lookups with
/// their shared failure budget, approve and deny.
struct ConsentDesk: Sendable {
    let users: any UserStore
    let sessions: any ConsentSessionStore
    let grants: any GrantStore
    let clients: any ClientStore
    let scopes: any ScopeStore
    let failures: any FailureLedger
    let events: any GrantEventBus
    let clock: any WallClock
    let random: any RandomSource
    let sessionLifetime: TimeInterval
    let metrics: ServerMetrics
    /// "Your devices": the grants a user holds, and their revocation.
    let held: any LiveGrantStore & TokenStore
    /// The operator's `sites`: networks that count as one for proximity (BCP 247).
    var sites: [AddressRanges] = []
    var audit: AuditTrail = .disabled
    /// Authenticators: asked at login when confirmed, and for step-up (ARCHITECTURE.md §4.8).
    let secondFactor: SecondFactorDesk
    /// CIBA ping and push (ARCHITECTURE.md §4.9): told of every decided backchannel request.
    var backchannel: BackchannelNotifier?
    /// How long a session waiting for its second factor lives.
    static let pendingLifetime: TimeInterval = 300

    struct Session {
        var record: ConsentSession
        var user: User
    }

    // MARK: sessions

    /// A password login under the login budgets (`LoginBudgets`): the (name, address) pair locks
    /// after five failures; the name and the address throttle. The attempt is charged before the
    /// password is checked and forgiven when it was right.
    func login(name: String, password: String, source: String, front: String = ConsentFront.terminal) async throws
        -> (token: String, session: ConsentSession, user: User)
    {
        let now = clock.now
        let budgets = LoginBudgets(name: name, address: source)
        if let refusal = try await budgets.admit(on: failures, at: now) {
            metrics.refusedLogins.increment()
            audit.record("login", outcome: "refused", actor: name, address: source, detail: refusal.message)
            throw ConsentAPI.Failure(.tooManyAttempts, refusal.message, retryAfter: refusal.retryAfter)
        }
        let record = try await users.user(named: name)
        let ok = await PasswordHasher.verifyOnThreadPool(password, hash: record?.passwordHash ?? PasswordHasher.decoy)
        guard let record, ok, !record.user.disabled else {
            metrics.failedLogins.increment()
            audit.record("login", outcome: "failed", actor: name, address: source)
            throw ConsentAPI.Failure(.accessDenied, "wrong user name or password")
        }
        // With an authenticator the password opens a session that waits for a code; only the
        // code clears the pair's failures (`LoginBudgets.passwordAccepted`).
        if try await secondFactor.isEnrolled(record.user) {
            try await budgets.passwordAccepted(on: failures, admittedAt: now)
            audit.record("login", outcome: "password_ok", actor: name, address: source, detail: "a code from the authenticator is next")
            return try await openSession(for: record.user, source: source, front: front, methods: [AuthenticationContext.password],
                                         pendingCode: true)
        }
        try await budgets.succeeded(on: failures, admittedAt: now)
        audit.record("login", outcome: "ok", actor: name, address: source)
        return try await openSession(for: record.user, source: source, front: front, methods: [AuthenticationContext.password])
    }

    /// A session for an already-authenticated user (also used by the SSH front's tickets).
    /// `pendingCode`: it waits for a code from the user's authenticator (`verifyCode`) and lives
    /// `pendingLifetime` until then.
    func openSession(for user: User, source: String, front: String = ConsentFront.terminal, methods: [String],
                     pendingCode: Bool = false) async throws -> (token: String, session: ConsentSession, user: User)
    {
        let now = clock.now
        let token = SecretToken.generate(using: random, prefix: "cs_")
        var session = ConsentSession(tokenHash: SecretToken.hash(token), userID: user.id, createdAt: now,
                                     expiresAt: now.addingTimeInterval(pendingCode ? Self.pendingLifetime : sessionLifetime),
                                     source: source, front: front)
        session.methods = methods
        session.secondFactorPending = pendingCode
        try await sessions.createSession(session)
        return (token, session, user)
    }

    /// The session behind `bearer`. One still waiting for its second factor is refused with
    /// `otp_required`, unless `pendingAllowed` (the code's own endpoint, the session query).
    func session(bearer: String?, pendingAllowed: Bool = false) async throws -> Session {
        guard let bearer, let record = try await sessions.session(tokenHash: SecretToken.hash(bearer)),
              record.expiresAt > clock.now,
              let user = try await users.user(id: record.userID), !user.disabled
        else { throw ConsentAPI.Failure(.loginRequired, "log in first (no or expired session)") }
        if record.secondFactorPending, !pendingAllowed {
            throw ConsentAPI.Failure(.otpRequired, "enter the code from your authenticator app to finish logging in")
        }
        return Session(record: record, user: user)
    }

    // MARK: grants

    /// Finds the pending grant for `code`, charging a failure to every budget when there is none.
    /// The address budget is charged to the address the session logged in from: for a session
    /// handed over by the SSH front that is the SSH client, not the replica its child talks to.
    func pendingGrant(code: String, session: Session) async throws -> DeviceGrant {
        let userCode: UserCode
        do {
            userCode = try UserCode(parsing: code)
        } catch {
            throw ConsentAPI.Failure(.invalidRequest, "not a code: \(error)")
        }
        let now = clock.now
        let keys = [FailureKey(.codeBySession, session.record.tokenHash), FailureKey(.codeByUser, String(session.user.id)),
                    FailureKey(.codeByAddress, session.record.source)]
        if let blocked = try await failures.retryAfter(keys, at: now) {
            throw ConsentAPI.Failure(.tooManyAttempts, "too many wrong codes; try again in \(blocked) seconds",
                                     guessesLeft: 0, retryAfter: blocked)
        }
        // A request bound to another user (`login_hint`) is, for this one, a code that does not
        // exist: the same answer and the same charge as a wrong guess, so it is no oracle.
        if let grant = try await grants.pendingGrant(userCode: userCode), grant.effectiveStatus(at: now) == .pending,
           grant.loginHint == nil || grant.loginHint == session.user.name {
            return grant
        }
        // Wrong or dead code: one failure for the session, user and address, and one for every
        // live code a character away (a partial-knowledge attack on it).
        let left = try await failures.charge(keys, at: now)
        _ = try await grants.chargeWrongGuess(nearCodes: userCode.neighbours, at: now)
        metrics.failedGuesses.increment()
        audit.record("wrong_code", outcome: "failed", actor: session.user.name, address: session.record.source)
        throw ConsentAPI.Failure(.invalidGrant, "invalid or expired code (\(left) \(left == 1 ? "guess" : "guesses") left)",
                                 guessesLeft: left)
    }

    /// "Your devices": the session user's grants that still hold tokens.
    func devices(for session: Session) async throws -> ConsentAPI.DeviceList {
        let live = try await held.liveGrants(userID: session.user.id, clientID: nil, at: clock.now)
        return ConsentAPI.DeviceList(devices: live.map { grant in
            ConsentAPI.DeviceList.Device(
                id: grant.familyID, clientID: grant.clientID, clientName: grant.clientName ?? grant.clientID, deviceIP: grant.deviceIP,
                userAgent: grant.userAgent, approvedAt: Int(grant.approvedAt.timeIntervalSince1970),
                lastRefresh: grant.lastRefresh.map { Int($0.timeIntervalSince1970) }, scope: grant.scopes.description,
                approvedVia: grant.approvedVia)
        })
    }

    /// Revokes one of the session user's own grants: its refresh family and access tokens at once.
    /// Anyone else's, or one already gone, is `not_found` (no oracle for other people's grants).
    func revokeDevice(id: String, session: Session) async throws {
        let live = try await held.liveGrants(userID: session.user.id, clientID: nil, at: clock.now)
        guard let grant = live.first(where: { $0.familyID == id }) else {
            throw ConsentAPI.Failure(.notFound, "no such device among yours (already revoked or expired?)")
        }
        try await held.revokeFamily(id, at: clock.now)
        audit.record("revocation", outcome: "ok", actor: session.user.name, address: session.record.source, client: grant.clientID,
                     grant: id, detail: "from the consent screen")
    }

    /// Where the device stands relative to `session`'s address (the SSH client's for an SSH
    /// session, the caller's otherwise, the real one behind trusted proxies).
    func proximity(of grant: DeviceGrant, to session: Session) -> Proximity? {
        Proximity.between(device: grant.deviceIP, approver: session.record.source, sites: sites.map(\.ranges))
    }

    /// What a person sees about a pending grant. Client- and device-supplied strings are raw
    /// here; every terminal front passes them through `TerminalText.sanitize`.
    func view(of grant: DeviceGrant, for session: Session) async throws -> PendingRequest {
        let now = clock.now
        let client = try await clients.client(id: grant.clientID)
        let descriptions = try await scopes.scopeDescriptions()
        return PendingRequest(
            userCode: grant.userCode.display, clientID: grant.clientID, clientName: client?.name ?? grant.clientID,
            scopes: grant.requestedScopes.map { .init(name: $0, description: descriptions[$0] ?? "(no description registered)") },
            deviceIP: grant.deviceIP, userAgent: grant.userAgent,
            requestedSecondsAgo: max(0, Int(now.timeIntervalSince(grant.createdAt))), expiresIn: grant.secondsLeft(at: now),
            webSignIn: grant.authorization.map { PendingRequest.WebSignIn(redirectHost: $0.redirectHost) },
            proximity: client?.proximity == .off ? nil : proximity(of: grant, to: session),
            secondFactor: try await demand(approving: grant.requestedScopes, client: client, session: session)?.description)
        .with(backchannel: grant.backchannel ? true : nil, bindingMessage: grant.bindingMessage)
    }

    /// CIBA (ARCHITECTURE.md §4.9): the backchannel requests naming the session user, oldest first.
    func inbox(for session: Session) async throws -> ConsentAPI.Inbox {
        var requests: [PendingRequest] = []
        for grant in try await grants.pendingBackchannelGrants(loginHint: session.user.name, at: clock.now) {
            requests.append(try await view(of: grant, for: session))
        }
        return ConsentAPI.Inbox(requests: requests)
    }

    /// Approves (all requested scopes, or the subset given) or denies, as `session`'s user. An
    /// approval that needs a second factor now (`SecondFactorDemand`) takes `otp`, or is refused
    /// with `otp_required` and nothing decided.
    func decide(code: String, approve: Bool, scopes requested: ScopeSet?, otp: String? = nil, session: Session) async throws -> DeviceGrant {
        var grant = try await pendingGrant(code: code, session: session)
        var session = session
        let client = try await clients.client(id: grant.clientID)
        if approve, client?.proximity == .require,
           proximity(of: grant, to: session) != .sameAddress, proximity(of: grant, to: session) != .sameNetwork {
            return try await refuseForProximity(grant, session: session, at: clock.now)
        }
        if approve, let demand = try await demand(approving: requested ?? grant.requestedScopes, client: client, session: session) {
            guard let otp else {
                guard try await secondFactor.isEnrolled(session.user) else {
                    throw ConsentAPI.Failure(.accessDenied, "\(demand.description), and you have no authenticator: add one first "
                                             + "(F3 on the code screen), or deny")
                }
                throw ConsentAPI.Failure(.otpRequired, demand.description)
            }
            session = try await verifyCode(otp, session: session)
        }
        let now = clock.now
        if approve {
            let fresh = SecondFactorDemand.isFresh(session.record.otpAt, at: now)
            grant.authentication = AuthenticationContext(
                methods: session.record.methods, time: max(session.record.createdAt, session.record.otpAt ?? .distantPast),
                acr: fresh ? AuthenticationContext.stepUpACR : nil)
        }
        grant.decidedVia = session.record.front
        do {
            if approve {
                try grant.approve(by: session.user.id, scopes: requested ?? grant.requestedScopes, at: now)
            } else {
                try grant.deny(by: session.user.id, at: now)
            }
        } catch {
            throw ConsentAPI.Failure(.invalidScope, error.description)
        }
        guard try await grants.recordDecision(grant, at: now) else {
            throw ConsentAPI.Failure(.alreadyDecided, "this request was decided elsewhere or has expired")
        }
        metrics.decisions.increment()
        announce(grant, outcome: approve ? .approved : .denied)
        audit.record("decision", outcome: approve ? "approved" : "denied", actor: session.user.name, address: session.record.source,
                     client: grant.clientID, grant: grant.id.map(String.init),
                     detail: approve ? "scope \(grant.grantedScopes?.description ?? ""); device \(grant.deviceIP)" : "device \(grant.deviceIP)")
        return grant
    }

    /// BCP 247 with `--proximity require`: an approval from another network is refused, and the
    /// request is denied (recorded; the device gets `access_denied`), since a code approved from
    /// afar is the phishing pattern.
    private func refuseForProximity(_ grant: DeviceGrant, session: Session, at now: Date) async throws -> DeviceGrant {
        var denied = grant
        denied.decidedVia = session.record.front
        try? denied.deny(by: session.user.id, at: now)
        if try await grants.recordDecision(denied, at: now) {
            metrics.decisions.increment()
            announce(denied, outcome: .denied)
        }
        audit.record("decision", outcome: "refused_proximity", actor: session.user.name, address: session.record.source,
                     client: grant.clientID, grant: grant.id.map(String.init), detail: "device \(grant.deviceIP)")
        throw ConsentAPI.Failure(.proximityRequired, "this client must be approved from the network the device is on "
                                 + "(it asked from \(grant.deviceIP), you are elsewhere); the request is denied")
    }

    /// After a decision is durable: the bus (the device's and the screens' sockets); for a CIBA
    /// request also the named user's inbox on every screen and, in ping or push mode, the client.
    private func announce(_ grant: DeviceGrant, outcome: GrantOutcome) {
        if let id = grant.id { events.publish(GrantEvent(grantID: id, outcome: outcome)) }
        guard grant.backchannel else { return }
        if let loginHint = grant.loginHint { events.publishInbox(loginHint: loginHint) }
        if let backchannel { Task { await backchannel.decided(grant) } }
    }
}
