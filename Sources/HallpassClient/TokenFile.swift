import Foundation
import HallpassCore

/// The device's saved token response (`hallpass login`): `$XDG_CONFIG_HOME/hallpass/token-CLIENT.json`,
/// the directory 0700 and the file 0600, written whole or not at all (a temporary file renamed
/// over it), and a `.lock` beside it that serializes every process that may rotate it.
public enum TokenFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ path: String, _ what: String) { description = "cannot \(what) \(path): \(String(cString: strerror(errno)))" }
    }

    /// `$XDG_CONFIG_HOME/hallpass/token-CLIENT.json`, else `~/.config/hallpass/…`.
    public static func defaultPath(clientID: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        let safe = clientID.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" }
        return base + "/hallpass/token-" + String(safe) + ".json"
    }

    /// Writes `data` readable by the owner only: the directory 0700, the file 0600, created
    /// with that mode (never world-readable, not even for an instant), then renamed into place.
    public static func save(_ data: Data, to path: String) throws {
        try makeDirectory(for: path)
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw Failure(path, "write") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == data.count, rename(temporary, path) == 0 else {
            let failure = Failure(path, "write")
            unlink(temporary)
            throw failure
        }
        chmod(path, 0o600)
    }

    static func makeDirectory(for path: String) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
    }

    /// Runs `body` holding an exclusive `flock` on `path.lock`: concurrent processes that read,
    /// refresh and save the same token file take turns (a refresh token rotates once, not N times,
    /// so reuse detection never revokes the family).
    public static func withLock<T>(_ path: String, _ body: () async throws -> T) async throws -> T {
        try makeDirectory(for: path)
        let fd = open(path + ".lock", O_RDWR | O_CREAT | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw Failure(path + ".lock", "open") }
        defer { close(fd) }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else { throw Failure(path + ".lock", "lock") }
        }
        defer { flock(fd, LOCK_UN) }
        return try await body()
    }

    // MARK: - The DPoP key beside the token (RFC 9449)

    /// `token-CLIENT.json` → `token-CLIENT.dpop-key.json`: the private JWK, mode 0600.
    public static func dpopKeyPath(for tokenPath: String) -> String {
        (tokenPath.hasSuffix(".json") ? String(tokenPath.dropLast(5)) : tokenPath) + ".dpop-key.json"
    }

    public static func saveDPoPKey(_ key: DPoPKey, besideTokenFile tokenPath: String) throws {
        try save(key.fileContents, to: dpopKeyPath(for: tokenPath))
    }

    /// The key beside the token file, nil when there is none; an unreadable one is an error.
    public static func dpopKey(besideTokenFile tokenPath: String) throws -> DPoPKey? {
        guard let data = FileManager.default.contents(atPath: dpopKeyPath(for: tokenPath)) else { return nil }
        return try DPoPKey(fileContents: data)
    }

    public static func removeDPoPKey(besideTokenFile tokenPath: String) throws {
        let keyPath = dpopKeyPath(for: tokenPath)
        if unlink(keyPath) != 0 && errno != ENOENT { throw Failure(keyPath, "delete") }
    }
}
