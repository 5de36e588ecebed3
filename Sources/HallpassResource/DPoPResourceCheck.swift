import Foundation
import HallpassCore
import Hummingbird

/// How a resource server takes DPoP-bound tokens (RFC 9449 §7): the URL its clients call (what a
/// proof's `htu` names), how fresh a proof must be, and whether Bearer tokens are refused outright.
public struct DPoPOptions: Sendable {
    /// The scheme, host and port clients reach this server at, e.g. `https://api.example`; the
    /// request's path is added. Nil: DPoP is refused. (Never the request's `Host` header: a
    /// stranger chooses it, so a proof made for another server on the same issuer would pass.)
    public var publicBaseURL: String?
    public var freshness: DPoPProof.Freshness
    /// Refuse tokens that are not DPoP-bound (a resource that only takes sender-constrained ones).
    public var requireDPoP: Bool

    public init(publicBaseURL: String? = nil, freshness: DPoPProof.Freshness = DPoPProof.Freshness(), requireDPoP: Bool = false) {
        var base = publicBaseURL
        while base?.hasSuffix("/") == true { base?.removeLast() }
        (self.publicBaseURL, self.freshness, self.requireDPoP) = (base, freshness, requireDPoP)
    }

    /// The URL `request` was sent to, without query (RFC 9449 §4.3 check 9); nil without a
    /// `publicBaseURL`.
    func targetURI(of request: Request) -> String? {
        publicBaseURL.map { $0 + request.uri.path }
    }
}

/// The proofs this resource server accepted (RFC 9449 §11.1), each until it would be too old
/// anyway: a replayed proof is refused. In memory, per process; `capacity` bounds it, and when it
/// is full of live entries new proofs are refused rather than remembered less (fail closed).
public actor DPoPReplayMemory {
    private var seen: [String: Date] = [:]
    let capacity: Int

    public init(capacity: Int = 1_000_000) { self.capacity = capacity }

    /// False when `key` was recorded and has not passed its time (a replay), or there is no room.
    func record(_ key: String, until: Date, now: Date) -> Bool {
        if let known = seen[key], known > now { return false }
        if seen.count >= capacity { seen = seen.filter { $0.value > now } }
        guard seen.count < capacity else { return false }
        seen[key] = until
        return true
    }
}

/// RFC 9449 §7.1 for one request: the verified token's binding against the scheme it came with,
/// then the proof, then replay. Nil when the request may pass.
struct DPoPResourceCheck: Sendable {
    static let dpopHeader = HTTPFields.Element.Name("DPoP")!
    let options: DPoPOptions
    let replays: DPoPReplayMemory
    let clock: any WallClock

    func refusal(for request: Request, presented: PresentedAccessToken, token: VerifiedAccessToken) async -> TokenRejection? {
        let bound = token.claims.cnf?.jkt
        guard presented.scheme == .dpop else {
            if bound != nil { return .dpopBoundPresentedAsBearer }
            return options.requireDPoP ? .notDPoPBound : nil
        }
        guard let uri = options.targetURI(of: request) else { return .dpopNotConfigured }
        let now = clock.now
        let context = DPoPProof.Context(method: request.method.rawValue, uri: uri,
                                        accessToken: presented.token, boundThumbprint: bound)
        do throws(DPoPProof.Refusal) {
            let proof = try DPoPProof.check(headers: request.headers[values: Self.dpopHeader], context: context,
                                            now: now, freshness: options.freshness)
            let until = proof.replayHorizon(options.freshness, nonceLifetime: 0, now: now)
            guard await replays.record(proof.replayKey, until: until, now: now) else { return .dpopProof(.replayed) }
            return nil
        } catch {
            return .dpopProof(error)
        }
    }
}
