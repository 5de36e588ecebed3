import CSodium
import Foundation
import NIOPosix

/// Argon2id password and client-secret hashing through libsodium (`crypto_pwhash_str`).
///
/// Parameters follow the OWASP recommendation for Argon2id (19 MiB, 2 passes, 1 lane): strong
/// enough for interactive logins while keeping a concurrent burst of logins from multiplying
/// the server's memory. Hashes are self-describing PHC strings, so the parameters can be raised
/// later without breaking stored ones.
public enum PasswordHasher {
    static let opsLimit: UInt64 = 2
    static let memLimit = 19 * 1024 * 1024

    private static let initialized: Bool = sodium_init() >= 0

    public static func hash(_ password: String) throws -> String {
        guard initialized else { throw PasswordHashError.unavailable }
        var out = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
        let status = password.withCString { pw in
            crypto_pwhash_str_alg(&out, pw, UInt64(strlen(pw)), opsLimit, memLimit, crypto_pwhash_ALG_ARGON2ID13)
        }
        guard status == 0 else { throw PasswordHashError.outOfMemory }
        return String(cString: out)
    }

    /// Constant-time verification; false for a malformed hash.
    public static func verify(_ password: String, hash: String) -> Bool {
        guard initialized, hash.utf8.count < Int(crypto_pwhash_STRBYTES) else { return false }
        return hash.withCString { h in
            password.withCString { pw in crypto_pwhash_str_verify(h, pw, UInt64(strlen(pw))) == 0 }
        }
    }

    /// `verify` on NIO's pool for blocking work (`NIOThreadPool.singleton`). One Argon2id check
    /// holds a core for tens of milliseconds (19 MiB, 2 passes); the server's handlers run on the
    /// event loops (`EventLoopExecutor`), where it would hold up every connection of that loop.
    /// False when the pool is shut down (the server is stopping).
    public static func verifyOnThreadPool(_ password: String, hash: String) async -> Bool {
        (try? await NIOThreadPool.singleton.runIfActive { verify(password, hash: hash) }) ?? false
    }

    /// A hash of a random password, verified against when a user does not exist, so that
    /// unknown and known user names take the same time.
    static let decoy: String = (try? hash(UUID().uuidString)) ?? ""
}

public enum PasswordHashError: Error, CustomStringConvertible {
    case unavailable, outOfMemory
    public var description: String {
        switch self {
        case .unavailable: "libsodium could not be initialized"
        case .outOfMemory: "not enough memory to hash the password"
        }
    }
}
