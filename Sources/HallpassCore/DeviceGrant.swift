import Foundation

/// One device authorization (RFC 8628 §3.1–3.5) and the rules of its lifecycle:
/// `pending → approved | denied | expired`, `approved → redeemed` exactly once (ARCHITECTURE.md §5).
/// A browser's authorization request (RFC 6749 §4.1) waits for its person as the same kind of
/// grant, with `authorization` set: the same user code, lookups, budgets and decisions.
///
/// A value with no I/O: every transition takes the time as an argument, so the whole state
/// machine is tested with a `ManualClock`.
public struct DeviceGrant: Sendable, Equatable {
    public enum Status: String, Sendable, Codable, CaseIterable {
        case pending, approved, denied, expired, redeemed
    }

    public var id: Int64?
    /// SHA-256 of the device code; the raw code is never stored.
    public var deviceCodeHash: String
    public var userCode: UserCode
    public var clientID: String
    public var requestedScopes: ScopeSet
    public var grantedScopes: ScopeSet?
    public var status: Status
    public var createdAt: Date
    public var expiresAt: Date
    /// Seconds the device must wait between polls; raised by 5 on every `slow_down` (§3.5).
    public var interval: Int
    public var userID: Int64?
    public var decidedAt: Date?
    public var redeemedAt: Date?
    /// The requesting device's address and user agent, shown on the consent screen (§5.4).
    public var deviceIP: String
    public var userAgent: String
    /// Wrong guesses near this code still allowed before it is withdrawn.
    public var guessBudget: Int
    /// Set for a browser sign-in (authorization code grant): what its code is bound to. Its
    /// `deviceCodeHash` is then the hash of the waiting page's handle.
    public var authorization: AuthorizationRequest?
    /// A browser sign-in's `AuthorizationCode.storedHash`.
    public var authorizationCodeHash: String?
    /// BCP 247 authenticate-then-initiate: the `login_hint` the device named (a user name); only
    /// that user may see or decide the request.
    public var loginHint: String?
    /// The front the decision was made through (`ConsentFront`).
    public var decidedVia: String?
    /// Set for a backchannel authentication request (CIBA Core §7): the device named its person
    /// (`loginHint`) and polls with an `auth_req_id` (stored as `deviceCodeHash`); its user code
    /// only addresses it in the consent API (the person opens it from their inbox, never types it).
    public var backchannel = false
    /// CIBA Core §7.1 `binding_message`: shown on the device and on the approver's screen alike
    /// (`BindingMessage`, checked when the request is made). Client-supplied.
    public var bindingMessage: String?
    /// A ping- or push-mode request's delivery (CIBA Core §10.2–10.3).
    public var notification: BackchannelNotification?
    /// How the approver authenticated for the approval (`amr`, `auth_time`, `acr`), which its
    /// tokens carry (ARCHITECTURE.md §4.8).
    public var authentication: AuthenticationContext?

    public init(
        deviceCodeHash: String, userCode: UserCode, clientID: String, requestedScopes: ScopeSet,
        createdAt: Date, lifetime: TimeInterval, interval: Int, deviceIP: String, userAgent: String,
        guessBudget: Int = GrantPolicy.guessesPerCode
    ) {
        self.deviceCodeHash = deviceCodeHash
        self.userCode = userCode
        self.clientID = clientID
        self.requestedScopes = requestedScopes
        self.status = .pending
        self.createdAt = createdAt
        self.expiresAt = createdAt.addingTimeInterval(lifetime)
        self.interval = interval
        self.deviceIP = deviceIP
        self.userAgent = userAgent
        self.guessBudget = guessBudget
    }

    /// The status as of `now`: a pending or approved grant past `expiresAt` is expired.
    public func effectiveStatus(at now: Date) -> Status {
        if (status == .pending || status == .approved) && now >= expiresAt { return .expired }
        return status
    }

    public func secondsLeft(at now: Date) -> Int {
        max(0, Int(expiresAt.timeIntervalSince(now).rounded(.down)))
    }

    /// What a token request for this grant is answered with (RFC 8628 §3.5), before any
    /// slow_down check. `approved` means: redeem now.
    public enum Redemption: Equatable, Sendable {
        case pending, approved, denied, expired, alreadyRedeemed
    }

    public func redemption(at now: Date) -> Redemption {
        switch effectiveStatus(at: now) {
        case .pending: .pending
        case .approved: .approved
        case .denied: .denied
        case .expired: .expired
        case .redeemed: .alreadyRedeemed
        }
    }

    /// Approve with `scopes`, which must be a non-empty subset of what was requested.
    public mutating func approve(by user: Int64, scopes: ScopeSet, at now: Date) throws(GrantTransitionError) {
        try requirePending(at: now)
        guard !scopes.isEmpty else { throw .emptyScope }
        guard scopes.isSubset(of: requestedScopes) else { throw .scopeNotRequested(scopes.subtracting(requestedScopes)) }
        status = .approved
        grantedScopes = scopes
        userID = user
        decidedAt = now
        // A browser sign-in's code is valid for a minute from the approval (RFC 6749 §4.1.2).
        if authorization != nil {
            expiresAt = min(expiresAt, now.addingTimeInterval(GrantPolicy.authorizationCodeLifetime))
        }
    }

    public mutating func deny(by user: Int64, at now: Date) throws(GrantTransitionError) {
        try requirePending(at: now)
        status = .denied
        userID = user
        decidedAt = now
    }

    /// Marks an approved grant as used; it never yields a second token.
    public mutating func redeem(at now: Date) throws(GrantTransitionError) {
        guard effectiveStatus(at: now) == .approved else { throw .notApproved(effectiveStatus(at: now)) }
        status = .redeemed
        redeemedAt = now
    }

    private func requirePending(at now: Date) throws(GrantTransitionError) {
        let current = effectiveStatus(at: now)
        guard current == .pending else { throw .notPending(current) }
    }
}

public enum GrantTransitionError: Error, Equatable, Sendable, CustomStringConvertible {
    case notPending(DeviceGrant.Status)
    case notApproved(DeviceGrant.Status)
    case emptyScope
    case scopeNotRequested(ScopeSet)

    public var description: String {
        switch self {
        case .notPending(let s): "this request is already \(s.rawValue)"
        case .notApproved(let s): "this request is \(s.rawValue), not approved"
        case .emptyScope: "approve at least one scope, or deny"
        case .scopeNotRequested(let extra): "the device did not ask for: \(extra)"
        }
    }
}
