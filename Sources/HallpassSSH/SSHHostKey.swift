import Crypto
import Foundation
import HallpassCore
import NIOSSH

/// The SSH front's Ed25519 host key: generated on first start, then kept (mode 0600) beside the
/// database so clients' known_hosts stay valid across restarts.
public struct SSHHostKey: Sendable {
    public let privateKey: Curve25519.Signing.PrivateKey

    public var nioKey: NIOSSHPrivateKey { NIOSSHPrivateKey(ed25519Key: privateKey) }

    /// The public key as an OpenSSH line (`ssh-ed25519 AAAA…`).
    public var publicKeyLine: SSHPublicKeyLine {
        var blob = Data()
        for part in [Data("ssh-ed25519".utf8), privateKey.publicKey.rawRepresentation] {
            withUnsafeBytes(of: UInt32(part.count).bigEndian) { blob.append(contentsOf: $0) }
            blob.append(part)
        }
        return SSHPublicKeyLine(type: "ssh-ed25519", blob: blob.base64EncodedString(), comment: "hallpass")
    }

    /// `SHA256:…`, as `ssh-keygen -lf` and OpenSSH's first-connection prompt print it.
    public var fingerprint: String { publicKeyLine.fingerprint }

    /// Loads the key at `path`, or creates it there (0600, in a directory it makes 0700).
    public static func loadOrCreate(at path: String) throws -> SSHHostKey {
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            guard let raw = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw)
            else { throw SSHFrontError("the SSH host key file \(path) is damaged; move it away to make a new key") }
            return SSHHostKey(privateKey: key)
        }
        let key = Curve25519.Signing.PrivateKey()
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw SSHFrontError("cannot create the SSH host key \(path): \(String(cString: strerror(errno)))") }
        let text = key.rawRepresentation.base64EncodedString() + "\n"
        let written = text.utf8CString.withUnsafeBufferPointer { write(fd, $0.baseAddress, $0.count - 1) }
        close(fd)
        guard written == text.utf8.count else { throw SSHFrontError("cannot write the SSH host key \(path)") }
        return SSHHostKey(privateKey: key)
    }

    /// Where `hallpass serve` keeps the host key for the database at `databasePath`.
    /// With PostgreSQL there is no database file: the key is `./ssh_host_ed25519_key`, and
    /// replicas behind one name should be given the same file.
    public static func defaultPath(forDatabase databasePath: String) -> String {
        if databasePath.contains("://") { return "./ssh_host_ed25519_key" }
        return URL(fileURLWithPath: databasePath).deletingLastPathComponent().appendingPathComponent("ssh_host_ed25519_key").path
    }
}

/// A readable reason for the operator.
public struct SSHFrontError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
