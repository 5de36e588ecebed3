import Foundation
import HallpassCore
import HallpassStore
import Testing

/// Browser sign-ins (issue 15) in both stores: they wait as grants with their authorization
/// request, are found by their code's hash, and a replayed code revokes what was issued.
extension StoreConformanceTests {
    func signIn(_ code: String = "BCDFGHJK", handle: String = UUID().uuidString) throws -> DeviceGrant {
        var grant = try pendingGrant(code, hash: SecretToken.hash(handle))
        grant.authorization = AuthorizationRequest(redirectURI: "http://127.0.0.1:4000/cb", redirectURISent: true,
                                                   state: "st", codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                                                   nonce: "n")
        grant.authorizationCodeHash = AuthorizationCode.storedHash(forPage: handle)
        return grant
    }

    @Test(arguments: StoreKind.allCases) func aSignInKeepsItsRequestAndIsFoundByItsCode(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let handle = AuthorizationCode.pageHandle(using: SeededRandomSource(seed: 5))
        let grant = try signIn(handle: handle)
        guard case .inserted = try await db.store.insertGrant(grant) else { Issue.record("insert"); return }
        let byCode = try #require(try await db.store.grant(codeHash: SecretToken.hash(AuthorizationCode.code(forPage: handle))))
        #expect(byCode.authorization == grant.authorization)
        #expect(byCode.authorizationCodeHash == grant.authorizationCodeHash)
        #expect(try await db.store.grant(deviceCodeHash: SecretToken.hash(handle))?.authorization == grant.authorization)
        #expect(try await db.store.pendingGrant(userCode: UserCode(parsing: "BCDFGHJK"))?.authorization != nil)
        #expect(try await db.store.grant(codeHash: SecretToken.hash("ac_unknown")) == nil)
        #expect(try await db.store.grant(codeHash: "a\u{0}b") == nil)
        // A device grant has none of it.
        guard case .inserted = try await db.store.insertGrant(try pendingGrant("CDFGHJKL")) else { Issue.record("insert"); return }
        #expect(try await db.store.pendingGrant(userCode: UserCode(parsing: "CDFGHJKL"))?.authorization == nil)
    }

    @Test(arguments: StoreKind.allCases) func approvingASignInStoresItsShorterLife(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let user = try await db.store.addUser(name: "alice", passwordHash: "x")
        let handle = UUID().uuidString
        guard case .inserted = try await db.store.insertGrant(try signIn(handle: handle)) else { Issue.record("insert"); return }
        var grant = try #require(try await db.store.pendingGrant(userCode: UserCode(parsing: "BCDFGHJK")))
        clock.advance(by: 30)
        try grant.approve(by: user.id, scopes: ScopeSet(["read"]), at: clock.now)
        #expect(try await db.store.recordDecision(grant, at: clock.now))
        let stored = try #require(try await db.store.grant(deviceCodeHash: SecretToken.hash(handle)))
        #expect(abs(stored.expiresAt.timeIntervalSince(clock.now.addingTimeInterval(GrantPolicy.authorizationCodeLifetime))) < 0.01)
        #expect(stored.effectiveStatus(at: clock.now.addingTimeInterval(61)) == .expired)
    }

    @Test(arguments: StoreKind.allCases) func revokingAGrantsTokensRevokesItsFamilyOnly(kind: StoreKind) async throws {
        let db = try await TestStore.make(kind)
        let user = try await db.store.addUser(name: "alice", passwordHash: "x")
        let (id, _) = try await approvedGrant(db, user: user.id)
        let issued = tokens(family(user: user.id))
        #expect(try await db.store.redeem(grantID: id, tokens: issued, at: clock.now) == .redeemed)
        let (otherID, _) = try await approvedGrant(db, user: user.id)   // the same user code, now free again
        let other = tokens(family(user: user.id))
        #expect(try await db.store.redeem(grantID: otherID, tokens: other, at: clock.now) == .redeemed)
        try await db.store.revokeTokens(grantID: id, at: clock.now)
        #expect(try await db.store.accessToken(jti: issued.accessJTI)?.revokedAt != nil)
        #expect(try await db.store.refreshToken(hash: try #require(issued.refreshHash))?.revokedAt != nil)
        #expect(try await db.store.family(id: issued.family.id)?.revokedAt != nil)
        #expect(try await db.store.accessToken(jti: other.accessJTI)?.revokedAt == nil)
        try await db.store.revokeTokens(grantID: 999_999, at: clock.now)    // no family: nothing happens
    }
}
