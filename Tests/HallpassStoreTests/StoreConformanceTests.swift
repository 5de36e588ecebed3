import Foundation
import HallpassCore
import HallpassStore
import Testing

/// The storage rules every store must keep, run against SQLite and PostgreSQL alike.
@Suite struct StoreConformanceTests {
    let clock = ManualClock()

    func pendingGrant(_ code: String = "BCDFGHJK", hash: String = UUID().uuidString, lifetime: TimeInterval = 600) throws -> DeviceGrant {
        DeviceGrant(deviceCodeHash: hash, userCode: try UserCode(parsing: code), clientID: "tv",
                    requestedScopes: ScopeSet(["openid", "read"]), createdAt: clock.now, lifetime: lifetime,
                    interval: 5, deviceIP: "127.0.0.1", userAgent: "ua")
    }

    func family(user: Int64) -> TokenFamily {
        TokenFamily(id: UUID().uuidString, clientID: "tv", userID: user, scopes: ScopeSet(["openid", "read"]),
                    createdAt: clock.now, revokedAt: nil, authTime: clock.now)
    }

    func tokens(_ family: TokenFamily, refresh: String? = UUID().uuidString) -> IssuedTokens {
        IssuedTokens(family: family, scopes: family.scopes, accessJTI: UUID().uuidString,
                     accessExpiresAt: clock.now.addingTimeInterval(3600), refreshHash: refresh,
                     refreshExpiresAt: clock.now.addingTimeInterval(86400), issuedAt: clock.now)
    }

    /// Inserts the pending grant BCDF-GHJK and records its approval by `user`.
    func approvedGrant(_ db: TestStore, user: Int64) async throws -> (Int64, DeviceGrant) {
        guard case .inserted(let id) = try await db.store.insertGrant(try pendingGrant()) else {
            throw StoreError.corrupt("insert failed")
        }
        var grant = try #require(try await db.store.pendingGrant(userCode: UserCode(parsing: "BCDFGHJK")))
        try grant.approve(by: user, scopes: ScopeSet(["read"]), at: clock.now)
        #expect(try await db.store.recordDecision(grant, at: clock.now))
        return (id, grant)
    }

    @Test(arguments: StoreKind.allCases) func liveUserCodesAreUnique(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        guard case .inserted = try await db.store.insertGrant(try pendingGrant()) else { Issue.record("first insert"); return }
        #expect(try await db.store.insertGrant(try pendingGrant()) == .userCodeTaken)
        #expect(try await db.store.pendingGrant(userCode: try UserCode(parsing: "bcdf-ghjk"))?.clientID == "tv")
    }

    @Test(arguments: StoreKind.allCases) func concurrentInsertsAreGroupCommittedAndAllDurable(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let random = SeededRandomSource(seed: 11)
        let grants = try (0..<300).map { i in
            var g = try pendingGrant(UserCode.generate(using: random).normalized, hash: "hash-\(i)")
            g.clientID = "tv"
            return g
        }
        let results = try await withThrowingTaskGroup(of: GrantInsertion.self) { group in
            for g in grants { group.addTask { try await db.store.insertGrant(g) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let inserted = results.filter { if case .inserted = $0 { true } else { false } }
        #expect(inserted.count == 300)
        for i in [0, 150, 299] { #expect(try await db.store.grant(deviceCodeHash: "hash-\(i)") != nil) }
    }

    @Test(arguments: StoreKind.allCases) func decisionIsRecordedOnlyWhilePendingAndUnexpired(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let user = try await db.store.addUser(name: "alice", passwordHash: "x")
        guard case .inserted(let id) = try await db.store.insertGrant(try pendingGrant(lifetime: 60)) else { return }
        let found = try #require(try await db.store.pendingGrant(userCode: UserCode(parsing: "BCDFGHJK")))
        var grant = try #require(try await db.store.grant(deviceCodeHash: found.deviceCodeHash))
        #expect(grant.id == id)
        try grant.approve(by: user.id, scopes: ScopeSet(["read"]), at: clock.now)
        #expect(try await db.store.recordDecision(grant, at: clock.now))
        #expect(try await db.store.recordDecision(grant, at: clock.now) == false)  // no longer pending
        let stored = try #require(try await db.store.grant(deviceCodeHash: grant.deviceCodeHash))
        #expect(stored.status == .approved)
        #expect(stored.grantedScopes == ScopeSet(["read"]))

        guard case .inserted = try await db.store.insertGrant(try pendingGrant("CCCCCCCC", lifetime: 60)) else { return }
        var late = try #require(try await db.store.pendingGrant(userCode: UserCode(parsing: "CCCCCCCC")))
        try late.deny(by: user.id, at: clock.now)
        clock.advance(by: 61)
        #expect(try await db.store.recordDecision(late, at: clock.now) == false)  // expired meanwhile
    }

    @Test(arguments: StoreKind.allCases) func redemptionIsOneAtomicConditionalTransaction(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let user = try await db.store.addUser(name: "alice", passwordHash: "x")
        let (id, grant) = try await approvedGrant(db, user: user.id)

        // 20 concurrent redemptions: exactly one commits its tokens.
        let attempts = (0..<20).map { _ in tokens(family(user: user.id)) }
        let results = try await withThrowingTaskGroup(of: (RedemptionResult, IssuedTokens).self) { group in
            for t in attempts { group.addTask { (try await db.store.redeem(grantID: id, tokens: t, at: clock.now), t) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let winners = results.filter { $0.0 == .redeemed }
        #expect(winners.count == 1)
        for (result, t) in results where result != .redeemed {
            #expect(result == .notRedeemable)
            #expect(try await db.store.accessToken(jti: t.accessJTI) == nil)  // nothing half-written
            #expect(try await db.store.family(id: t.family.id) == nil)
        }
        let winner = try #require(winners.first?.1)
        #expect(try await db.store.accessToken(jti: winner.accessJTI) != nil)
    }

    @Test(arguments: StoreKind.allCases) func disabledAccountRollsRedemptionBack(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let user = try await db.store.addUser(name: "bob", passwordHash: "x")
        let (id, grant) = try await approvedGrant(db, user: user.id)
        #expect(try await db.store.setDisabled(name: "bob", true))
        let t = tokens(family(user: user.id))
        #expect(try await db.store.redeem(grantID: id, tokens: t, at: clock.now) == .accountDisabled)
        #expect(try await db.store.grant(deviceCodeHash: grant.deviceCodeHash)?.status == .approved)  // rolled back
        #expect(try await db.store.accessToken(jti: t.accessJTI) == nil)
    }

    @Test(arguments: StoreKind.allCases) func refreshRotationAllowsOneSuccessorAndReuseRevokesTheFamily(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let user = try await db.store.addUser(name: "carol", passwordHash: "x")
        let (id, grant) = try await approvedGrant(db, user: user.id)
        let fam = family(user: user.id)
        let first = tokens(fam, refresh: "r1")
        #expect(try await db.store.redeem(grantID: id, tokens: first, at: clock.now) == .redeemed)

        let successors = (0..<10).map { i in tokens(fam, refresh: "r2-\(i)") }
        let results = try await withThrowingTaskGroup(of: RotationResult.self) { group in
            for s in successors { group.addTask { try await db.store.rotate(oldHash: "r1", successor: s, at: clock.now) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0 == .rotated }.count == 1)
        #expect(results.filter { $0 == .reused }.count == 9)
        // The reuse revoked everything, including the one successor.
        #expect(try await db.store.family(id: fam.id)?.revokedAt != nil)
        for s in successors {
            if let r = try await db.store.refreshToken(hash: s.refreshHash!) { #expect(r.revokedAt != nil) }
        }
        #expect(try await db.store.accessToken(jti: first.accessJTI)?.revokedAt != nil)
    }

    /// Concurrent refreshes of different families (group-committed on SQLite): each is rotated
    /// once, a token presented twice in the same burst is caught as reused, and the revocation
    /// of that family touches no other.
    @Test(arguments: StoreKind.allCases) func concurrentRotationsOfManyFamiliesStayApart(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let user = try await db.store.addUser(name: "carol", passwordHash: "x")
        var firsts: [IssuedTokens] = []
        for (i, letter) in "BCDFGHJKLMNP".enumerated() {
            let code = try UserCode(parsing: "BCDFGHJ" + String(letter))
            guard case .inserted(let id) = try await db.store.insertGrant(try pendingGrant(code.normalized)) else {
                throw StoreError.corrupt("insert failed")
            }
            var grant = try #require(try await db.store.pendingGrant(userCode: code))
            try grant.approve(by: user.id, scopes: ScopeSet(["read"]), at: clock.now)
            #expect(try await db.store.recordDecision(grant, at: clock.now))
            let first = tokens(family(user: user.id), refresh: "r1-\(i)")
            #expect(try await db.store.redeem(grantID: id, tokens: first, at: clock.now) == .redeemed)
            firsts.append(first)
        }
        let successors = firsts.enumerated().map { i, first in tokens(first.family, refresh: "r2-\(i)") }
        let replay = tokens(firsts[0].family, refresh: "r2-replay")
        let now = clock.now
        let results = try await withThrowingTaskGroup(of: (Int, RotationResult).self) { group in
            for (i, successor) in successors.enumerated() {
                group.addTask { (i, try await db.store.rotate(oldHash: "r1-\(i)", successor: successor, at: now)) }
            }
            group.addTask { (-1, try await db.store.rotate(oldHash: "r1-0", successor: replay, at: now)) }
            return try await group.reduce(into: [Int: RotationResult]()) { $0[$1.0] = $1.1 }
        }
        #expect(Set([results[0], results[-1]]) == [.rotated, .reused])
        #expect(try await db.store.family(id: firsts[0].family.id)?.revokedAt != nil)
        for i in 1..<firsts.count {
            #expect(results[i] == .rotated)
            #expect(try await db.store.family(id: firsts[i].family.id)?.revokedAt == nil)
            #expect(try await db.store.refreshToken(hash: "r1-\(i)")?.usedAt != nil)
            #expect(try await db.store.refreshToken(hash: "r2-\(i)")?.revokedAt == nil)
        }
    }

    @Test(arguments: StoreKind.allCases) func wrongGuessesNearALiveCodeWithdrawItAfterFive(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        _ = try await db.store.insertGrant(try pendingGrant())
        let near = try UserCode(parsing: "BCDFGHJL")  // one letter off
        for _ in 0..<4 { #expect(try await db.store.chargeWrongGuess(nearCodes: near.neighbours, at: clock.now) == 0) }
        #expect(try await db.store.pendingGrant(userCode: UserCode(parsing: "BCDFGHJK")) != nil)
        #expect(try await db.store.chargeWrongGuess(nearCodes: near.neighbours, at: clock.now) == 1)
        #expect(try await db.store.pendingGrant(userCode: UserCode(parsing: "BCDFGHJK")) == nil)
    }

    @Test(arguments: StoreKind.allCases) func sweepExpiresAndKeepsTablesBounded(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        _ = try await db.store.insertGrant(try pendingGrant(lifetime: 60))
        clock.advance(by: 61)
        #expect(try await db.store.sweep(at: clock.now) == 1)
        // An expired code's letters can be handed out again.
        guard case .inserted = try await db.store.insertGrant(try pendingGrant()) else { Issue.record("reuse"); return }
        clock.advance(by: 2 * 86400)
        _ = try await db.store.sweep(at: clock.now)
        #expect(try await db.store.pendingGrant(userCode: UserCode(parsing: "BCDFGHJK")) == nil)
    }

    /// CIBA (ARCHITECTURE.md §4.9): a ping or push request that ran out is left to the claim,
    /// which hands it out once however many replicas sweep at the same moment; poll-mode
    /// requests and device grants expire in the ordinary sweep.
    @Test(arguments: StoreKind.allCases) func anExpiredNotifiedBackchannelRequestIsClaimedExactlyOnce(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        func request(_ code: String, token: String?) throws -> DeviceGrant {
            var grant = try pendingGrant(code, lifetime: 60)
            grant.loginHint = "alice"
            grant.backchannel = true
            grant.notification = token.map { BackchannelNotification(authRequestID: "req-\(code)", clientToken: $0) }
            return grant
        }
        _ = try await db.store.insertGrant(try request("BCDFGHJK", token: "nt-1"))
        _ = try await db.store.insertGrant(try request("MNPQRSTV", token: nil))
        _ = try await db.store.insertGrant(try pendingGrant("WXZBCDFG", lifetime: 60))
        #expect(try await db.store.expireNotifiedBackchannel(at: clock.now).isEmpty)      // not yet run out
        clock.advance(by: 61)
        #expect(try await db.store.sweep(at: clock.now) == 2)                               // the poll-mode one and the device grant
        let claims = try await withThrowingTaskGroup(of: [DeviceGrant].self) { group in
            for _ in 0..<8 { group.addTask { try await db.store.expireNotifiedBackchannel(at: self.clock.now) } }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(claims.count == 1)
        let claimed = try #require(claims.first)
        #expect(claimed.status == .expired && claimed.notification?.clientToken == "nt-1" && claimed.id != nil)
        #expect(try await db.store.expireNotifiedBackchannel(at: clock.now).isEmpty)
        #expect(try await db.store.sweep(at: clock.now) == 0)
    }

    /// CIBA's flood limits hold exactly when requests race (on PostgreSQL through separate
    /// connections, as from several replicas): 20 at once for one user, limit 5 → 5 inserted.
    @Test(arguments: StoreKind.allCases) func theFloodLimitsHoldUnderConcurrentRequests(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let letters = UserCode.alphabet
        func request(_ n: Int, user: String) throws -> DeviceGrant {
            var grant = try pendingGrant(String(repeating: letters[n % 20], count: 4) + String(repeating: letters[n / 20], count: 4))
            grant.loginHint = user
            grant.backchannel = true
            return grant
        }
        func insertAtOnce(_ grants: [DeviceGrant], perUser: Int, perClient: Int) async throws -> [GrantInsertion] {
            try await withThrowingTaskGroup(of: GrantInsertion.self) { group in
                for grant in grants {
                    group.addTask { try await db.store.insertBackchannelRequest(grant, perUser: perUser, perClient: perClient, at: self.clock.now) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        let forAlice = try await insertAtOnce(try (0..<20).map { try request($0, user: "alice") }, perUser: 5, perClient: 50)
        #expect(forAlice.filter { if case .inserted = $0 { true } else { false } }.count == 5)
        #expect(forAlice.filter { $0 == .tooManyForUser }.count == 15)
        // The client's limit, across users (5 of its requests are already pending).
        let others = try await insertAtOnce(try (20..<30).map { try request($0, user: "user\($0)") }, perUser: 5, perClient: 8)
        #expect(others.filter { if case .inserted = $0 { true } else { false } }.count == 3)
        #expect(others.filter { $0 == .tooManyForClient }.count == 7)
        // Expired requests no longer count.
        clock.advance(by: 601)
        #expect(try await db.store.insertBackchannelRequest(try request(31, user: "alice"), perUser: 5, perClient: 8, at: clock.now)
                != .tooManyForUser)
    }

    @Test(arguments: StoreKind.allCases) func duplicatesAreReported(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        _ = try await db.store.addUser(name: "dave", passwordHash: "x")
        await #expect(throws: StoreError.duplicate("user dave")) { try await db.store.addUser(name: "dave", passwordHash: "y") }
        let client = OAuthClient(id: "tv", name: "TV", secretHash: nil, scopes: ScopeSet(["read"]), grantTypes: [.deviceCode])
        try await db.store.addClient(client)
        await #expect(throws: StoreError.duplicate("client tv")) { try await db.store.addClient(client) }
        #expect(try await db.store.client(id: "tv") == client)
        #expect(try await db.store.removeClient(id: "tv"))
        #expect(try await db.store.client(id: "tv") == nil)
    }


    /// A client's `%00` must be "not found" (an RFC error upstream), never a store failure.
    @Test(arguments: StoreKind.allCases) func keysWithANulByteFindNothing(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        _ = try await db.store.addUser(name: "alice", passwordHash: "x")
        #expect(try await db.store.client(id: "tv\u{0}") == nil)
        #expect(try await db.store.user(named: "alice\u{0}") == nil)
        #expect(try await db.store.setDisabled(name: "alice\u{0}", true) == false)
        #expect(try await db.store.accessToken(jti: "\u{0}") == nil)
        #expect(try await db.store.refreshToken(hash: "a\u{0}") == nil)
        #expect(try await db.store.family(id: "\u{0}") == nil)
        #expect(try await db.store.sshKey(blob: "AAAA\u{0}") == nil)
        #expect(try await db.store.removeClient(id: "\u{0}") == false)
    }

    func signingKey(_ n: Int, _ algorithm: SigningKeyRecord.Algorithm = .eddsa) -> SigningKeyRecord {
        SigningKeyRecord(kid: "k\(n)-\(UUID().uuidString)", algorithm: algorithm, privateKey: Data(repeating: UInt8(n), count: 32),
                         createdAt: clock.now)
    }

    /// The access-token key and the RSA ID-token key are made and rotated independently.
    @Test(arguments: StoreKind.allCases) func eachKeyUseHasItsOwnFirstKeyAndRotation(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        #expect(try await db.store.addFirstKey(signingKey(1)))
        #expect(try await db.store.addFirstKey(signingKey(2, .es256)) == false)  // same use
        #expect(try await db.store.addFirstKey(signingKey(3, .rs256)))           // another use
        #expect(try await db.store.addFirstKey(signingKey(4, .rs256)) == false)
        try await db.store.addActiveKey(signingKey(5, .es256), at: clock.now)
        var active = try await db.store.signingKeys().filter { $0.retiredAt == nil }.map(\.algorithm)
        #expect(Set(active) == [.es256, .rs256] && active.count == 2)
        try await db.store.addActiveKey(signingKey(6, .rs256), at: clock.now)
        active = try await db.store.signingKeys().filter { $0.retiredAt == nil }.map(\.algorithm)
        #expect(Set(active) == [.es256, .rs256] && active.count == 2)
        #expect(try await db.store.signingKeys().count == 4)
    }

    /// Replicas starting together on a fresh database: exactly one first key.
    @Test(arguments: StoreKind.allCases) func theFirstSigningKeyIsMadeOnce(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let made = try await withThrowingTaskGroup(of: Bool.self) { group in
            for n in 0..<12 { group.addTask { try await db.store.addFirstKey(signingKey(n)) } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(made == 1)
        #expect(try await db.store.signingKeys().count == 1)
        #expect(try await db.store.addFirstKey(signingKey(99)) == false)
    }

    /// Two replicas rotating at once: every key but one is retired.
    @Test(arguments: StoreKind.allCases) func concurrentRotationsLeaveOneActiveKey(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        for _ in 0..<5 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<8 { group.addTask { try await db.store.addActiveKey(signingKey(n), at: clock.now) } }
                try await group.waitForAll()
            }
        }
        let keys = try await db.store.signingKeys()
        #expect(keys.count == 40)
        #expect(keys.filter { $0.retiredAt == nil }.count == 1)
    }

    /// RFC 9449 §11.1 across replicas: of twenty concurrent records of one proof, one wins; it
    /// may be recorded again only once its time has passed, and the sweep forgets it.
    @Test(arguments: StoreKind.allCases) func aDPoPProofIsAcceptedOnce(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let until = clock.now.addingTimeInterval(60)
        let wins = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 { group.addTask { try await db.store.recordProof(key: "proof-1", until: until, now: clock.now) } }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(wins == 1)
        #expect(try await db.store.recordProof(key: "proof-2", until: until, now: clock.now))
        #expect(try await !db.store.recordProof(key: "proof-1", until: until, now: clock.now.addingTimeInterval(59)))
        #expect(try await db.store.recordProof(key: "proof-1", until: until + 60, now: clock.now.addingTimeInterval(60)))
        #expect(try await !db.store.recordProof(key: "nul\0key", until: until, now: clock.now))
        #expect(try await db.store.sweep(at: clock.now.addingTimeInterval(200)) >= 2)
        #expect(try await db.store.recordProof(key: "proof-2", until: until + 300, now: clock.now.addingTimeInterval(200)))
    }

    /// The DPoP bindings the server keeps: a client that must use DPoP, a family's key.
    @Test(arguments: StoreKind.allCases) func dpopBindingsAreStored(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        try await db.store.addClient(OAuthClient(id: "pi", name: "Pi", secretHash: nil, scopes: ScopeSet(["read"]),
                                                 grantTypes: [.deviceCode], requiresDPoP: true))
        #expect(try await db.store.client(id: "pi")?.requiresDPoP == true)
        #expect(try await db.store.clients().first { $0.id == "pi" }?.requiresDPoP == true)
        try await db.store.addClient(OAuthClient(id: "tv", name: "TV", secretHash: nil, scopes: ScopeSet(["read"]), grantTypes: [.deviceCode]))
        #expect(try await db.store.client(id: "tv")?.requiresDPoP == false)
        let user = try await db.store.addUser(name: "dpop-alice", passwordHash: "x").id
        let (grantID, _) = try await approvedGrant(db, user: user)
        var bound = family(user: user)
        bound.dpopJKT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        #expect(try await db.store.redeem(grantID: grantID, tokens: tokens(bound), at: clock.now) == .redeemed)
        #expect(try await db.store.family(id: bound.id)?.dpopJKT == bound.dpopJKT)
    }

    /// "Your devices" and `hallpass grants` (issue 17): live families with the device as it asked,
    /// filtered by user and client; revoked or expired ones are gone.
    @Test(arguments: StoreKind.allCases) func liveGrantsListWhatStillHoldsTokens(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let user = try await db.store.addUser(name: "grants-alice", passwordHash: "x").id
        let (grantID, _) = try await approvedGrant(db, user: user)
        let live = family(user: user)
        #expect(try await db.store.redeem(grantID: grantID, tokens: tokens(live), at: clock.now) == .redeemed)
        let listed = try await db.store.liveGrants(userID: user, clientID: nil, at: clock.now)
        #expect(listed.map(\.familyID) == [live.id])
        #expect(listed.first?.deviceIP == "127.0.0.1" && listed.first?.userAgent == "ua" && listed.first?.userName == "grants-alice")
        #expect(listed.first?.lastRefresh == nil && listed.first?.scopes == live.scopes)
        #expect(try await db.store.liveGrants(userID: nil, clientID: "tv", at: clock.now).map(\.familyID) == [live.id])
        #expect(try await db.store.liveGrants(userID: nil, clientID: "other", at: clock.now).isEmpty)
        #expect(try await db.store.liveGrants(userID: user, clientID: nil, at: clock.now.addingTimeInterval(86401)).isEmpty)
        try await db.store.revokeFamily(live.id, at: clock.now)
        #expect(try await db.store.liveGrants(userID: user, clientID: nil, at: clock.now).isEmpty)
    }
}
