import Foundation
import HallpassCore
import Testing

/// The login budgets' rules (README "Login budgets"): the numbers the README states are the
/// ones these tests compute.
@Suite struct LoginBudgetRuleTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    func at(_ seconds: Double) -> Date { t0.addingTimeInterval(seconds) }

    @Test func aThrottleIsFreeThenDoublesUpToItsCap() {
        let throttle = LoginThrottle(free: 3, firstDelay: 1, maxDelay: 10, window: 3600)
        #expect((0...8).map { throttle.delay(afterFailures: $0) } == [0, 0, 0, 1, 2, 4, 8, 10, 10])
        #expect(throttle.saturation == 8)
        #expect(throttle.delay(afterFailures: 10_000) == 10)
        // Three failures cost nothing; the fourth attempt waits 1 s after the third failure.
        let three = [at(0), at(1), at(2)]
        #expect(throttle.retryAfter(three.dropLast(), at: at(2)) == nil)
        #expect(throttle.retryAfter(three, at: at(2)) == 1)
        #expect(throttle.retryAfter(three, at: at(2.5)) == 1)
        #expect(throttle.retryAfter(three, at: at(3)) == nil)
        // Failures older than the window count for nothing.
        #expect(throttle.retryAfter(three + [at(3)], at: at(3601)) == nil)
    }

    @Test func theREADMENumbersForGuessesPerHour() {
        guard case .throttle(let name) = FailureBudget.loginByName.rule,
              case .throttle(let address) = FailureBudget.loginByAddress.rule,
              case .lock(let pairLimit, let pairWindow) = FailureBudget.loginByPair.rule
        else { Issue.record("the login budgets changed kind"); return }
        #expect(pairLimit == 5 && pairWindow == 900)
        // Per name, over any number of addresses: 10 free, then 1, 2, 4 … 60 s apart.
        // 10 at once, then at 1, 3, 7, 15, 31 and 63 s, then every 60 s: 74 in the first hour,
        // 60 an hour after that.
        #expect(name.mostFailures(in: 3600) == 74)
        #expect(name.mostFailures(in: 24 * 3600) == 10 + 6 + 1438)
        // Per address, over any number of names: 50 free, then 1, 2, 4 … 30 s apart.
        // 50 at once, then at 1, 3, 7, 15, 31 and 61 s, then every 30 s: 173 in the first hour.
        #expect(address.mostFailures(in: 3600) == 50 + 6 + 117)
        #expect(name.saturation == 17 && address.saturation == 56)
    }

    @Test func thePairLocksButTheThrottlesOnlyDelay() {
        let five = (0..<5).map { at(Double($0)) }
        let refusal = LoginRefusal.decide(pair: five, name: five, address: five, known: false, at: at(5))
        #expect(refusal == LoginRefusal(reason: .pair, retryAfter: 895))
        // A known pair is still locked by its own failures.
        #expect(LoginRefusal.decide(pair: five, name: [], address: [], known: true, at: at(5))?.reason == .pair)
        // Another address with the same name: the name has 5 failures, under its 10 free.
        #expect(LoginRefusal.decide(pair: [], name: five, address: [], known: false, at: at(5)) == nil)
    }

    @Test func aKnownPairSkipsBothThrottles() {
        let many = (0..<60).map { at(Double($0)) }
        let throttled = LoginRefusal.decide(pair: [], name: many, address: [], known: false, at: at(60))
        #expect(throttled?.reason == .name && throttled!.retryAfter <= 60)
        #expect(LoginRefusal.decide(pair: [], name: [], address: many, known: false, at: at(60))?.reason == .address)
        #expect(LoginRefusal.decide(pair: [], name: many, address: many, known: true, at: at(60)) == nil)
    }

    @Test func theLongestWaitIsReported() {
        let many = (0..<60).map { at(Double($0)) }
        let both = LoginRefusal.decide(pair: [], name: many, address: many, known: false, at: at(59.5))
        #expect(both == LoginRefusal(reason: .name, retryAfter: 60))
        #expect(both!.message.contains("60 seconds"))
    }

    @Test func aKnownPairIsRememberedThirtyDays() {
        #expect(FailureBudget.loginKnownPair.remembers([at(0)], at: at(29 * 86400)))
        #expect(!FailureBudget.loginKnownPair.remembers([at(0)], at: at(30 * 86400)))
        #expect(FailureBudget.loginKnownPair.retryAfter([at(0)], at: at(1)) == nil)
    }

    @Test func forgivingTakesBackOneFailureAtThatMoment() {
        var limiter = AttemptLimiter(limit: 5, window: 900)
        limiter.recordFailure("k", at: at(0))
        limiter.recordFailure("k", at: at(1))
        limiter.forgive("k", at: at(1))
        limiter.forgive("k", at: at(7))          // nothing recorded then: nothing changes
        #expect(limiter.failures("k", since: .distantPast) == [at(0)])
    }
}
