import Foundation
import HallpassCore

/// Storage roles, each as narrow as the code that uses it (fosite's per-RFC storage
/// interfaces). `SQLiteStore` implements them all; PostgreSQL will too.

public protocol ClientStore: Sendable {
    func client(id: String) async throws -> OAuthClient?
    func clients() async throws -> [OAuthClient]
    /// Throws `StoreError.duplicate` when the id is taken.
    func addClient(_ client: OAuthClient) async throws
    func removeClient(id: String) async throws -> Bool
}

public protocol UserStore: Sendable {
    func user(named name: String) async throws -> UserRecord?
    func user(id: Int64) async throws -> User?
    func users() async throws -> [User]
    /// Throws `StoreError.duplicate` when the name is taken.
    func addUser(name: String, passwordHash: String) async throws -> User
    func setDisabled(name: String, _ disabled: Bool) async throws -> Bool
}

public protocol ScopeStore: Sendable {
    /// Server-authored descriptions, by scope name.
    func scopeDescriptions() async throws -> [String: String]
    /// Adds or redefines a scope; `stepUp` (issue 18): approving it needs a fresh second factor.
    func setScope(name: String, description: String, stepUp: Bool) async throws
    /// The scopes marked step-up.
    func stepUpScopes() async throws -> Set<String>
}

extension ScopeStore {
    public func setScope(name: String, description: String) async throws {
        try await setScope(name: name, description: description, stepUp: false)
    }
}

public protocol GrantStore: Sendable {
    /// Inserts a new pending grant; `.userCodeTaken` asks the caller for another code.
    func insertGrant(_ grant: DeviceGrant) async throws -> GrantInsertion
    func grant(deviceCodeHash: String) async throws -> DeviceGrant?
    /// A browser sign-in by its authorization code's hash (`AuthorizationCode.storedHash`).
    func grant(codeHash: String) async throws -> DeviceGrant?
    /// Revokes the token family issued from `grantID`, if any: an authorization code presented
    /// twice (RFC 6749 §4.1.2, §10.5).
    func revokeTokens(grantID: Int64, at now: Date) async throws
    /// The pending grant with this user code, if any (expired ones included; check the time).
    func pendingGrant(userCode: UserCode) async throws -> DeviceGrant?
    /// Stores a decision made on `grant` (approved or denied), only if it is still pending
    /// and unexpired at `now`. Returns false when it was not.
    func recordDecision(_ grant: DeviceGrant, at now: Date) async throws -> Bool
    /// Stores a raised polling interval (RFC 8628 §3.5 slow_down).
    func setInterval(grantID: Int64, interval: Int) async throws
    /// Charges one wrong guess to every pending grant whose code is in `userCodes`; grants whose
    /// budget runs out are withdrawn (expired). Returns how many were withdrawn.
    func chargeWrongGuess(nearCodes userCodes: [String], at now: Date) async throws -> Int
    /// One transaction: consume the approved grant (conditional update), re-check the user's
    /// account, write the tokens. Returns `.redeemed` only if all of it committed.
    func redeem(grantID: Int64, tokens: IssuedTokens, at now: Date) async throws -> RedemptionResult
    /// Marks expired grants and deletes long-dead rows; returns the number of rows touched.
    /// Backchannel requests with a notification token are left pending for
    /// `expireNotifiedBackchannel`, so their expiry is announced exactly once.
    func sweep(at now: Date) async throws -> Int
    /// CIBA ping and push (ARCHITECTURE.md §4.9): marks the pending backchannel requests that
    /// carry a client notification token and have run out as expired, and returns them (now
    /// expired). Atomic: of several replicas sweeping at once, each request goes to exactly one.
    func expireNotifiedBackchannel(at now: Date) async throws -> [DeviceGrant]
    /// CIBA (ARCHITECTURE.md §4.9): the pending, unexpired backchannel requests naming
    /// `loginHint`, oldest first (the approver's inbox).
    func pendingBackchannelGrants(loginHint: String, at now: Date) async throws -> [DeviceGrant]
    /// CIBA's inbox-flooding limits, exact under concurrency and across replicas: inserts the
    /// backchannel request `grant` only if fewer than `perUser` pending, unexpired requests name
    /// its `loginHint` and fewer than `perClient` are its client's; the count and the insert are
    /// one step (SQLite's single writer; on PostgreSQL, transaction-scoped advisory locks on the
    /// user, then the client).
    func insertBackchannelRequest(_ grant: DeviceGrant, perUser: Int, perClient: Int, at now: Date) async throws -> GrantInsertion
}

public protocol TokenStore: Sendable {
    func refreshToken(hash: String) async throws -> RefreshTokenRecord?
    /// Rotation (RFC 6749 §10.4, OAuth 2.0 Security BCP §4.14): marks `oldHash` used and stores
    /// `successor` only if `oldHash` was unused; a second use revokes the whole family.
    func rotate(oldHash: String, successor: IssuedTokens, at now: Date) async throws -> RotationResult
    func revokeFamily(_ familyID: String, at now: Date) async throws
    func accessToken(jti: String) async throws -> AccessTokenRecord?
    func revokeAccessToken(jti: String, at now: Date) async throws
    func family(id: String) async throws -> TokenFamily?
    /// Binds a family's refresh tokens to a DPoP key (RFC 9449 §5), only while it is unbound:
    /// false when it was bound already (to whatever key) or is gone.
    func bindFamily(id: String, dpopJKT: String) async throws -> Bool
}

public protocol KeyStore: Sendable {
    func signingKeys() async throws -> [SigningKeyRecord]
    /// Adds `key` as the active key of its use; the previously active key of that use is retired
    /// at `now`. Concurrent calls (two replicas rotating at once) leave exactly one active key
    /// per use.
    func addActiveKey(_ key: SigningKeyRecord, at now: Date) async throws
    /// Adds `key` only while there is no unretired key of its use (the first start on a fresh
    /// database, the first start of a version that adds the use, or every key of the use
    /// retired); false when one exists. Replicas starting together make one key.
    func addFirstKey(_ key: SigningKeyRecord) async throws -> Bool
}

public protocol ConsentSessionStore: Sendable {
    func createSession(_ session: ConsentSession) async throws
    func session(tokenHash: String) async throws -> ConsentSession?
    func deleteSession(tokenHash: String) async throws
    /// A second factor given in the session (ARCHITECTURE.md §4.8): its methods become
    /// `methods`, `otp_at` becomes `at`, it is no longer pending, and it lasts until `expiresAt`.
    /// False when the session is gone.
    func recordSecondFactor(tokenHash: String, methods: [String], at: Date, expiresAt: Date) async throws -> Bool
}

/// People's TOTP authenticators (RFC 6238) and recovery codes (ARCHITECTURE.md §4.8). Secrets are
/// stored sealed (`TOTPVault`); the store never sees one in the clear.
public protocol AuthenticatorStore: Sendable {
    func authenticator(userID: Int64) async throws -> AuthenticatorRecord?
    /// Stores a new, unconfirmed secret, replacing an unconfirmed one; false when the user has a
    /// confirmed authenticator (disable it first).
    func beginEnrolment(userID: Int64, sealedSecret: Data, at now: Date) async throws -> Bool
    /// Confirms the unconfirmed authenticator with the step of the code that confirmed it, and
    /// replaces the recovery codes; false when there is none unconfirmed.
    func confirmAuthenticator(userID: Int64, step: Int64, recoveryHashes: [String], at now: Date) async throws -> Bool
    /// RFC 6238 §5.2: records `step` as used only if it is later than the last used (one
    /// conditional update, so two replicas given one code at once accept it once). False: a replay.
    func useStep(userID: Int64, step: Int64) async throws -> Bool
    /// Marks one unused recovery code used; false when there is no such unused code.
    func useRecoveryCode(userID: Int64, hash: String, at now: Date) async throws -> Bool
    /// Removes the authenticator and the recovery codes; false when there was none.
    func removeAuthenticator(userID: Int64) async throws -> Bool
}

/// Users' SSH public keys, for the SSH front's public-key authentication.
public protocol SSHKeyStore: Sendable {
    /// Registers `key` for `userID`; false when that key is already registered (for anyone).
    func addSSHKey(_ key: SSHKeyRecord) async throws -> Bool
    func sshKeys(userID: Int64) async throws -> [SSHKeyRecord]
    /// Removes the key with `fingerprint` from `userID`; false when there was none.
    func removeSSHKey(userID: Int64, fingerprint: String) async throws -> Bool
    /// The key record for a key blob (base64 as in authorized_keys), if registered.
    func sshKey(blob: String) async throws -> SSHKeyRecord?
}

/// The DPoP proofs seen (RFC 9449 §11.1), shared by every replica: a proof is accepted once.
public protocol DPoPReplayStore: Sendable {
    /// Records `key` (`DPoPProof.replayKey`) until `until`; false when it is already recorded and
    /// has not passed its time at `now` (a replay). Two replicas recording one key at once: one wins.
    func recordProof(key: String, until: Date, now: Date) async throws -> Bool
}

/// The grants people approved that still hold tokens (BCP 247 "detect and remediate"): for the
/// "your devices" list and `hallpass grants`.
public protocol LiveGrantStore: Sendable {
    /// Unrevoked families with a refresh or access token unexpired at `now`, newest first; only
    /// `userID`'s or `clientID`'s when given.
    func liveGrants(userID: Int64?, clientID: String?, at now: Date) async throws -> [LiveGrant]
}

/// Everything the server needs from a store.
public typealias HallpassStorage = ClientStore & UserStore & ScopeStore & GrantStore & TokenStore & KeyStore & ConsentSessionStore
    & SSHKeyStore & DPoPReplayStore & LiveGrantStore & AuthenticatorStore

/// No store keeps a key with a NUL byte (PostgreSQL text cannot hold one; SQLite's C-string
/// binding would cut it short and find "alice" for "alice\0…"). Lookups by such a key answer
/// "not found" without asking, so a client's `%00` gets the RFC error its lookup should give.
public func isStorable(_ key: String) -> Bool {
    !key.utf8.contains(0)
}
