import Foundation
import HallpassCore
import Testing

@Suite struct DeviceGrantTests {
    let clock = ManualClock()

    func makeGrant(lifetime: TimeInterval = 600) throws -> DeviceGrant {
        DeviceGrant(deviceCodeHash: "h", userCode: try UserCode(parsing: "BCDFGHJK"), clientID: "tv",
                    requestedScopes: ScopeSet(["openid", "read", "write"]), createdAt: clock.now,
                    lifetime: lifetime, interval: 5, deviceIP: "127.0.0.1", userAgent: "test")
    }

    @Test func newGrantIsPendingUntilItExpires() throws {
        let grant = try makeGrant(lifetime: 600)
        #expect(grant.redemption(at: clock.now) == .pending)
        clock.advance(by: 599)
        #expect(grant.redemption(at: clock.now) == .pending)
        #expect(grant.secondsLeft(at: clock.now) == 1)
        clock.advance(by: 1)
        #expect(grant.redemption(at: clock.now) == .expired)
    }

    @Test func approveWithSubsetThenRedeemOnce() throws {
        var grant = try makeGrant()
        try grant.approve(by: 7, scopes: ScopeSet(["read"]), at: clock.now)
        #expect(grant.status == .approved)
        #expect(grant.grantedScopes == ScopeSet(["read"]))
        #expect(grant.userID == 7)
        #expect(grant.redemption(at: clock.now) == .approved)
        try grant.redeem(at: clock.now)
        #expect(grant.redemption(at: clock.now) == .alreadyRedeemed)
        #expect(throws: GrantTransitionError.notApproved(.redeemed)) { try grant.redeem(at: clock.now) }
    }

    @Test func approvedButUnredeemedGrantStillExpires() throws {
        var grant = try makeGrant(lifetime: 60)
        try grant.approve(by: 1, scopes: ScopeSet(["read"]), at: clock.now)
        clock.advance(by: 61)
        #expect(grant.redemption(at: clock.now) == .expired)
        #expect(throws: GrantTransitionError.notApproved(.expired)) { try grant.redeem(at: clock.now) }
    }

    @Test func pushOutcomesFollowTheGrant() throws {
        let pending = try makeGrant(lifetime: 60)
        #expect(pending.outcome(at: clock.now) == nil)
        var approved = pending
        try approved.approve(by: 1, scopes: ScopeSet(["read"]), at: clock.now)
        #expect(approved.outcome(at: clock.now) == .approved)
        var redeemed = approved
        try redeemed.redeem(at: clock.now)
        #expect(redeemed.outcome(at: clock.now) == .approved)
        var denied = pending
        try denied.deny(by: 1, at: clock.now)
        #expect(denied.outcome(at: clock.now) == .denied)
        clock.advance(by: 60)
        #expect(pending.outcome(at: clock.now) == .expired)
        #expect(approved.outcome(at: clock.now) == .expired)   // never redeemed: it cannot be now
        #expect(denied.outcome(at: clock.now) == .denied)
    }

    @Test func cannotApproveScopesThatWereNotRequestedOrNone() throws {
        var grant = try makeGrant()
        #expect(throws: GrantTransitionError.scopeNotRequested(ScopeSet(["admin"]))) {
            try grant.approve(by: 1, scopes: ScopeSet(["read", "admin"]), at: clock.now)
        }
        #expect(throws: GrantTransitionError.emptyScope) { try grant.approve(by: 1, scopes: ScopeSet(), at: clock.now) }
        #expect(grant.status == .pending)
    }

    @Test func decisionsHappenOnlyOnce() throws {
        var grant = try makeGrant()
        try grant.deny(by: 1, at: clock.now)
        #expect(grant.redemption(at: clock.now) == .denied)
        #expect(throws: GrantTransitionError.notPending(.denied)) { try grant.approve(by: 1, scopes: ScopeSet(["read"]), at: clock.now) }
        #expect(throws: GrantTransitionError.notPending(.denied)) { try grant.deny(by: 1, at: clock.now) }
    }

    @Test func cannotDecideAnExpiredGrant() throws {
        var grant = try makeGrant(lifetime: 60)
        clock.advance(by: 60)
        #expect(throws: GrantTransitionError.notPending(.expired)) { try grant.approve(by: 1, scopes: ScopeSet(["read"]), at: clock.now) }
    }
}

@Suite struct PollPacerTests {
    let pacer = PollPacer()
    let start = Date(timeIntervalSince1970: 1_000)

    @Test func firstPollIsAlwaysInPace() {
        #expect(pacer.judge(previousPoll: nil, interval: 5, now: start) == .inPace)
    }

    @Test func pollingAtTheIntervalIsInPace() {
        #expect(pacer.judge(previousPoll: start, interval: 5, now: start.addingTimeInterval(5)) == .inPace)
        #expect(pacer.judge(previousPoll: start, interval: 5, now: start.addingTimeInterval(9)) == .inPace)
    }

    @Test func pollingEarlyRaisesTheIntervalByFive() {
        #expect(pacer.judge(previousPoll: start, interval: 5, now: start.addingTimeInterval(4)) == .slowDown(newInterval: 10))
        #expect(pacer.judge(previousPoll: start, interval: 10, now: start.addingTimeInterval(9)) == .slowDown(newInterval: 15))
        #expect(pacer.judge(previousPoll: start, interval: 5, now: start) == .slowDown(newInterval: 10))
    }
}

@Suite struct ScopeSetTests {
    @Test func parsesSpaceDelimitedTokensDroppingDuplicates() throws {
        let scopes = try ScopeSet(parsing: "openid  read openid write")
        #expect(scopes.names == ["openid", "read", "write"])
        #expect(scopes.description == "openid read write")
        #expect(try ScopeSet(parsing: "   ").isEmpty)
    }

    @Test(arguments: ["read\"x", "a\\b", "caf\u{E9}", "read\twrite", "a\u{7F}"])
    func rejectsCharactersOutsideNQCHAR(_ text: String) {
        #expect(throws: OAuthError.self) { try ScopeSet(parsing: text) }
    }

    @Test func ceilingRules() throws {
        let ceiling = ScopeSet(["openid", "read"])
        #expect(try ScopeSet.resolve(requested: nil, ceiling: ceiling) == ceiling)
        #expect(try ScopeSet.resolve(requested: ScopeSet(), ceiling: ceiling) == ceiling)
        #expect(try ScopeSet.resolve(requested: ScopeSet(["read"]), ceiling: ceiling) == ScopeSet(["read"]))
        #expect(throws: OAuthError(.invalidScope, "scope not allowed for this client: write")) {
            try ScopeSet.resolve(requested: ScopeSet(["read", "write"]), ceiling: ceiling)
        }
    }
}
