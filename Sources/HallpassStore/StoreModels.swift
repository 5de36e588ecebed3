import Foundation
import HallpassCore

public enum StoreError: Error, Equatable, CustomStringConvertible {
    case duplicate(String)
    case corrupt(String)

    public var description: String {
        switch self {
        case .duplicate(let what): "\(what) already exists"
        case .corrupt(let what): "stored data is unreadable: \(what)"
        }
    }
}

public struct UserRecord: Sendable, Equatable {
    public var user: User
    public var passwordHash: String

    public init(user: User, passwordHash: String) {
        self.user = user
        self.passwordHash = passwordHash
    }
}

public enum GrantInsertion: Sendable, Equatable {
    case inserted(id: Int64)
    case userCodeTaken
    /// CIBA (`insertBackchannelRequest`): the named user, or the client, already has as many
    /// pending requests as allowed; nothing was inserted.
    case tooManyForUser
    case tooManyForClient
}

public enum RedemptionResult: Sendable, Equatable {
    case redeemed
    /// Not approved any more: redeemed by a concurrent request, expired or withdrawn.
    case notRedeemable
    case accountDisabled
}

public enum RotationResult: Sendable, Equatable {
    case rotated
    /// The token had been used before: its family is now revoked.
    case reused
    case invalid
    case accountDisabled
}

/// A family of tokens descending from one device grant; revoked together.
public struct TokenFamily: Sendable, Equatable {
    public var id: String
    public var clientID: String
    public var userID: Int64
    /// What the person approved; refreshes may only narrow it (RFC 6749 §6).
    public var scopes: ScopeSet
    public var createdAt: Date
    public var revokedAt: Date?
    public var authTime: Date
    /// RFC 9449 §5: the DPoP key (its RFC 7638 thumbprint) a public client's refresh tokens of
    /// this family are bound to; every refresh must prove it.
    public var dpopJKT: String?
    /// How the approver authenticated (RFC 8176 `amr`) and the `acr` of the approval, carried
    /// into every token of the family (ARCHITECTURE.md §4.8).
    public var methods: [String] = []
    public var acr: String?

    public init(id: String, clientID: String, userID: Int64, scopes: ScopeSet, createdAt: Date, revokedAt: Date?, authTime: Date,
                dpopJKT: String? = nil) {
        self.id = id
        self.clientID = clientID
        self.userID = userID
        self.scopes = scopes
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.authTime = authTime
        self.dpopJKT = dpopJKT
    }
}

/// What one successful token response writes.
public struct IssuedTokens: Sendable, Equatable {
    public var family: TokenFamily
    public var scopes: ScopeSet
    public var accessJTI: String
    public var accessExpiresAt: Date
    public var refreshHash: String?
    public var refreshExpiresAt: Date?
    public var issuedAt: Date

    public init(family: TokenFamily, scopes: ScopeSet, accessJTI: String, accessExpiresAt: Date,
                refreshHash: String?, refreshExpiresAt: Date?, issuedAt: Date) {
        self.family = family
        self.scopes = scopes
        self.accessJTI = accessJTI
        self.accessExpiresAt = accessExpiresAt
        self.refreshHash = refreshHash
        self.refreshExpiresAt = refreshExpiresAt
        self.issuedAt = issuedAt
    }
}

public struct RefreshTokenRecord: Sendable, Equatable {
    public var hash: String
    public var familyID: String
    public var clientID: String
    public var userID: Int64
    public var scopes: ScopeSet
    public var issuedAt: Date
    public var expiresAt: Date
    public var usedAt: Date?
    public var revokedAt: Date?

    public init(hash: String, familyID: String, clientID: String, userID: Int64, scopes: ScopeSet, issuedAt: Date,
                expiresAt: Date, usedAt: Date?, revokedAt: Date?) {
        (self.hash, self.familyID, self.clientID, self.userID, self.scopes) = (hash, familyID, clientID, userID, scopes)
        (self.issuedAt, self.expiresAt, self.usedAt, self.revokedAt) = (issuedAt, expiresAt, usedAt, revokedAt)
    }
}

public struct AccessTokenRecord: Sendable, Equatable {
    public var jti: String
    public var familyID: String
    public var clientID: String
    public var userID: Int64
    public var scopes: ScopeSet
    public var issuedAt: Date
    public var expiresAt: Date
    public var revokedAt: Date?

    public init(jti: String, familyID: String, clientID: String, userID: Int64, scopes: ScopeSet, issuedAt: Date,
                expiresAt: Date, revokedAt: Date?) {
        (self.jti, self.familyID, self.clientID, self.userID, self.scopes) = (jti, familyID, clientID, userID, scopes)
        (self.issuedAt, self.expiresAt, self.revokedAt) = (issuedAt, expiresAt, revokedAt)
    }
}

public struct SigningKeyRecord: Sendable, Equatable {
    public enum Algorithm: String, Sendable, CaseIterable {
        case eddsa = "EdDSA"
        case es256 = "ES256"
        /// ID tokens (OpenID Connect Discovery §3: RS256 must be supported; OIDC Core §2 makes it
        /// the default `id_token_signed_response_alg`).
        case rs256 = "RS256"

        /// Which active key a key of this algorithm replaces when it is added.
        public var use: Use { self == .rs256 ? .idToken : .accessToken }
    }

    /// The two keys that are active at once: one for access tokens (EdDSA unless rotated to
    /// ES256), one RSA key for ID tokens. Rotating one retires only the key of the same use.
    public enum Use: String, Sendable, CaseIterable {
        case accessToken, idToken

        public var algorithms: [Algorithm] { Algorithm.allCases.filter { $0.use == self } }
    }

    public var kid: String
    public var algorithm: Algorithm
    /// Private key bytes: Ed25519 seed, P-256 raw scalar, or RSA PKCS#1 DER.
    public var privateKey: Data
    public var createdAt: Date
    public var retiredAt: Date?

    public init(kid: String, algorithm: Algorithm, privateKey: Data, createdAt: Date, retiredAt: Date? = nil) {
        self.kid = kid
        self.algorithm = algorithm
        self.privateKey = privateKey
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }
}

public struct ConsentSession: Sendable, Equatable {
    public var tokenHash: String
    public var userID: Int64
    public var createdAt: Date
    public var expiresAt: Date
    public var source: String
    /// Which front the person uses (`ConsentFront`): what the grants they decide record.
    public var front: String
    /// RFC 8176 `amr` values of the login (`pwd`, `swk`, then `otp`, `mfa` once a code was given).
    public var methods: [String] = []
    /// When the last valid second-factor code was given in this session (step-up freshness).
    public var otpAt: Date?
    /// The user has an authenticator and has not given a code yet: only `POST /consent/otp`
    /// and logout work (ARCHITECTURE.md §4.8).
    public var secondFactorPending = false

    public init(tokenHash: String, userID: Int64, createdAt: Date, expiresAt: Date, source: String, front: String = ConsentFront.terminal) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.source = source
        self.front = front
    }
}

/// A person's TOTP authenticator as stored: the secret sealed by `TOTPVault`, when it was
/// confirmed (nil: enrolment not finished, it does not count), the last step accepted (RFC 6238
/// §5.2 replay), and how many recovery codes are left unused.
public struct AuthenticatorRecord: Sendable, Equatable {
    public var userID: Int64
    public var sealedSecret: Data
    public var createdAt: Date
    public var confirmedAt: Date?
    public var lastStep: Int64?
    public var recoveryCodesLeft: Int

    public init(userID: Int64, sealedSecret: Data, createdAt: Date, confirmedAt: Date?, lastStep: Int64?, recoveryCodesLeft: Int) {
        (self.userID, self.sealedSecret, self.createdAt) = (userID, sealedSecret, createdAt)
        (self.confirmedAt, self.lastStep, self.recoveryCodesLeft) = (confirmedAt, lastStep, recoveryCodesLeft)
    }
}

/// One registered SSH public key: `type` and `blob` as in an authorized_keys line.
public struct SSHKeyRecord: Sendable, Equatable {
    public var userID: Int64
    public var type: String
    public var blob: String
    /// `SHA256:` + unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it.
    public var fingerprint: String
    public var comment: String
    public var addedAt: Date

    public init(userID: Int64, type: String, blob: String, fingerprint: String, comment: String, addedAt: Date) {
        self.userID = userID
        self.type = type
        self.blob = blob
        self.fingerprint = fingerprint
        self.comment = comment
        self.addedAt = addedAt
    }
}

/// A grant that still holds tokens: its family, who approved it for which client, the device as
/// it asked, and when it was last refreshed. Client- and device-supplied text is raw here.
public struct LiveGrant: Sendable, Equatable {
    public var familyID: String
    public var clientID: String
    public var clientName: String?
    public var userID: Int64
    public var userName: String?
    public var scopes: ScopeSet
    public var approvedAt: Date
    public var deviceIP: String?
    public var userAgent: String?
    public var lastRefresh: Date?
    /// The front that approved it (`ConsentFront`), when recorded.
    public var approvedVia: String?
    /// The latest expiry of its live tokens.
    public var liveUntil: Date

    public init(familyID: String, clientID: String, clientName: String?, userID: Int64, userName: String?, scopes: ScopeSet,
                approvedAt: Date, deviceIP: String?, userAgent: String?, lastRefresh: Date?, liveUntil: Date) {
        (self.familyID, self.clientID, self.clientName, self.userID, self.userName) = (familyID, clientID, clientName, userID, userName)
        (self.scopes, self.approvedAt, self.deviceIP, self.userAgent) = (scopes, approvedAt, deviceIP, userAgent)
        (self.lastRefresh, self.liveUntil) = (lastRefresh, liveUntil)
        approvedVia = nil
    }
}
