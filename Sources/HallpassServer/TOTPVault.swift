import Crypto
import Foundation
import HallpassCore

/// The key that seals TOTP secrets at rest (ARCHITECTURE.md §4.8): 32 random bytes in
/// `totp_key_file`, created mode 0600 on first use (and tightened to 0600 if found looser).
/// A secret is sealed with ChaCha20-Poly1305, bound to its user's id, so a sealed secret copied
/// to another user's row does not open. The database alone yields no secret.
public struct TOTPVault: Sendable {
    let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    /// The key in `path`, made there first when it does not exist (`O_EXCL`: two processes
    /// starting together make one key).
    public static func open(path: String, random: any RandomSource = SystemRandomSource()) throws -> TOTPVault {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fd = Foundation.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd >= 0 {
            let bytes = random.bytes(32)
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            let synced = fsync(fd)
            close(fd)
            guard written == 32, synced == 0 else {
                unlink(path)
                throw VaultError("cannot write the TOTP key file \(path)")
            }
        } else if errno != EEXIST {
            throw VaultError("cannot create the TOTP key file \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw VaultError("cannot read the TOTP key file \(path)") }
        if info.st_mode & 0o077 != 0 { chmod(path, 0o600) }
        guard let data = FileManager.default.contents(atPath: path), data.count == 32 else {
            throw VaultError("the TOTP key file \(path) is not 32 bytes (totp_key_file)")
        }
        return TOTPVault(key: SymmetricKey(data: data))
    }

    func seal(_ secret: [UInt8], userID: Int64) throws -> Data {
        try ChaChaPoly.seal(secret, using: key, authenticating: Self.context(userID)).combined
    }

    func open(_ sealed: Data, userID: Int64) throws -> [UInt8] {
        do {
            return Array(try ChaChaPoly.open(ChaChaPoly.SealedBox(combined: sealed), using: key, authenticating: Self.context(userID)))
        } catch {
            throw VaultError("a stored TOTP secret does not open with this totp_key_file (was the key file replaced?)")
        }
    }

    private static func context(_ userID: Int64) -> Data { Data("hallpass totp secret, user \(userID)".utf8) }

    public struct VaultError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
