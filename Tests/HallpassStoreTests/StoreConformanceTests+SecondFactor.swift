import Foundation
import HallpassCore
import HallpassStore
import Testing

/// The second factor's storage rules (ARCHITECTURE.md §4.8), on SQLite and PostgreSQL alike.
extension StoreConformanceTests {
    @Test(arguments: StoreKind.allCases) func anAuthenticatorCountsOnceConfirmedAndEachStepIsUsedOnce(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let user = try await db.store.addUser(name: "totp-alice", passwordHash: "x").id
        #expect(try await db.store.authenticator(userID: user) == nil)
        #expect(try await !db.store.useStep(userID: user, step: 1))
        #expect(try await db.store.beginEnrolment(userID: user, sealedSecret: Data([1, 2, 3]), at: clock.now))
        #expect(try await db.store.beginEnrolment(userID: user, sealedSecret: Data([4, 5, 6]), at: clock.now))   // replaces
        var record = try #require(try await db.store.authenticator(userID: user))
        #expect(record.sealedSecret == Data([4, 5, 6]) && record.confirmedAt == nil && record.lastStep == nil)
        #expect(try await !db.store.useStep(userID: user, step: 10))   // unconfirmed: no code counts

        #expect(try await db.store.confirmAuthenticator(userID: user, step: 100, recoveryHashes: ["h1", "h2", "h3"], at: clock.now))
        #expect(try await !db.store.confirmAuthenticator(userID: user, step: 101, recoveryHashes: [], at: clock.now))
        #expect(try await !db.store.beginEnrolment(userID: user, sealedSecret: Data([7]), at: clock.now))   // confirmed: kept
        record = try #require(try await db.store.authenticator(userID: user))
        #expect(record.sealedSecret == Data([4, 5, 6]) && record.confirmedAt != nil && record.lastStep == 100 && record.recoveryCodesLeft == 3)

        // Twenty replicas' worth of the same code at once: one wins; the step and earlier ones are spent.
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { try await db.store.useStep(userID: user, step: 101) } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await !db.store.useStep(userID: user, step: 100))
        #expect(try await db.store.useStep(userID: user, step: 103))

        #expect(try await db.store.useRecoveryCode(userID: user, hash: "h2", at: clock.now))
        #expect(try await !db.store.useRecoveryCode(userID: user, hash: "h2", at: clock.now))
        #expect(try await !db.store.useRecoveryCode(userID: user, hash: "nope", at: clock.now))
        #expect(try await !db.store.useRecoveryCode(userID: user, hash: "h1\0", at: clock.now))
        #expect(try await db.store.authenticator(userID: user)?.recoveryCodesLeft == 2)

        #expect(try await db.store.removeAuthenticator(userID: user))
        #expect(try await !db.store.removeAuthenticator(userID: user))
        #expect(try await db.store.authenticator(userID: user) == nil)
        #expect(try await !db.store.useRecoveryCode(userID: user, hash: "h1", at: clock.now))
    }

    @Test(arguments: StoreKind.allCases) func sessionsGrantsAndFamiliesKeepHowThePersonAuthenticated(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let user = try await db.store.addUser(name: "amr-alice", passwordHash: "x").id
        var session = ConsentSession(tokenHash: "session-1", userID: user, createdAt: clock.now, expiresAt: clock.now.addingTimeInterval(300),
                                     source: "192.0.2.1")
        session.methods = ["pwd"]
        session.secondFactorPending = true
        try await db.store.createSession(session)
        #expect(try await db.store.session(tokenHash: "session-1") == session)
        let later = clock.now.addingTimeInterval(20)
        #expect(try await db.store.recordSecondFactor(tokenHash: "session-1", methods: ["pwd", "otp", "mfa"], at: later,
                                                      expiresAt: later.addingTimeInterval(900)))
        let stored = try #require(try await db.store.session(tokenHash: "session-1"))
        #expect(stored.methods == ["pwd", "otp", "mfa"] && stored.otpAt == later && !stored.secondFactorPending
                && stored.expiresAt == later.addingTimeInterval(900))
        #expect(try await !db.store.recordSecondFactor(tokenHash: "gone", methods: [], at: later, expiresAt: later))

        // The approval's context travels from the grant to the family its tokens come from.
        guard case .inserted = try await db.store.insertGrant(try pendingGrant()) else { throw StoreError.corrupt("insert") }
        var grant = try #require(try await db.store.pendingGrant(userCode: UserCode(parsing: "BCDFGHJK")))
        try grant.approve(by: user, scopes: ScopeSet(["read"]), at: clock.now)
        grant.authentication = AuthenticationContext(methods: ["pwd", "otp", "mfa"], time: later, acr: AuthenticationContext.stepUpACR)
        #expect(try await db.store.recordDecision(grant, at: clock.now))
        let read = try #require(try await db.store.grant(deviceCodeHash: grant.deviceCodeHash))
        #expect(read.authentication == grant.authentication)
        var fam = family(user: user)
        fam.methods = ["pwd", "otp", "mfa"]
        fam.acr = AuthenticationContext.stepUpACR
        #expect(try await db.store.redeem(grantID: try #require(read.id), tokens: tokens(fam), at: clock.now) == .redeemed)
        let storedFamily = try #require(try await db.store.family(id: fam.id))
        #expect(storedFamily.methods == ["pwd", "otp", "mfa"] && storedFamily.acr == AuthenticationContext.stepUpACR)
    }

    @Test(arguments: StoreKind.allCases) func stepUpScopesAndClientsThatRequireACodeAreStored(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        try await db.store.setScope(name: "admin", description: "Everything", stepUp: true)
        try await db.store.setScope(name: "read", description: "Read")
        #expect(try await db.store.stepUpScopes() == ["admin"])
        try await db.store.setScope(name: "admin", description: "Everything, really")   // redefined without --step-up
        #expect(try await db.store.stepUpScopes().isEmpty)
        var client = OAuthClient(id: "strict", name: "Strict", secretHash: nil, scopes: ScopeSet(["read"]), grantTypes: [.deviceCode])
        client.requiresTOTP = true
        try await db.store.addClient(client)
        #expect(try await db.store.client(id: "strict")?.requiresTOTP == true)
        #expect(try await db.store.clients().first { $0.id == "strict" }?.requiresTOTP == true)
    }
}
