import Foundation
@testable import HallpassServer
import Testing

/// The two caches in front of expensive checks: bounded, forgetful after their lifetime, and
/// keyed so that nothing else matches.
@Suite struct VerifiedCacheTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func claims(_ jti: String) -> AccessTokenClaims {
        AccessTokenClaims(iss: "i", sub: "1", aud: "i", client_id: "c", scope: "read", iat: 0, exp: 10, jti: jti, auth_time: nil)
    }

    @Test func verifiedTokensAreRememberedForTheirLifetimeOnly() {
        let cache = VerifiedTokenCache(lifetime: 60, capacity: 3)
        cache.insert("a.b.c", claims: claims("1"), now: start)
        #expect(cache.claims(of: "a.b.c", now: start.addingTimeInterval(59))?.jti == "1")
        #expect(cache.claims(of: "a.b.d", now: start) == nil)
        #expect(cache.claims(of: "a.b.c", now: start.addingTimeInterval(60)) == nil)
        #expect(cache.claims(of: "a.b.c", now: start) == nil)          // gone, not revived
        #expect(cache.claims(of: "x", now: start.addingTimeInterval(-1)) == nil)
    }

    @Test func theTokenCacheStaysWithinItsCapacity() {
        let cache = VerifiedTokenCache(lifetime: 60, capacity: 3)
        for n in 0..<10 { cache.insert("t\(n)", claims: claims("\(n)"), now: start) }
        let kept = (0..<10).filter { cache.claims(of: "t\($0)", now: start) != nil }
        #expect(kept.count <= 3 && kept.contains(9))
    }

    @Test func verifiedSecretsMatchOnlyTheSameIdSecretAndStoredHash() {
        let cache = VerifiedSecretCache(lifetime: 60, capacity: 2)
        cache.insert(id: "rs", secret: "s", stored: "h1", now: start)
        #expect(cache.contains(id: "rs", secret: "s", stored: "h1", now: start.addingTimeInterval(30)))
        #expect(!cache.contains(id: "rs", secret: "s", stored: "h2", now: start))   // a new secret was set
        #expect(!cache.contains(id: "rs", secret: "t", stored: "h1", now: start))
        #expect(!cache.contains(id: "rs2", secret: "s", stored: "h1", now: start))
        // A separator cannot be moved between fields to forge a match.
        cache.insert(id: "a", secret: "b\u{0}c", stored: "d", now: start)
        #expect(!cache.contains(id: "a\u{0}b", secret: "c", stored: "d", now: start))
        #expect(!cache.contains(id: "rs", secret: "s", stored: "h1", now: start.addingTimeInterval(60)))
        for n in 0..<5 { cache.insert(id: "c\(n)", secret: "s", stored: "h", now: start) }
        #expect(cache.count <= 2)
    }
}
