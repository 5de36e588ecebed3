import Foundation
import HallpassCore

/// The audit trail (issue 17): every login, wrong code, decision, token issuance, refresh,
/// refresh reuse, revocation and policy refusal as one hash-chained JSON line (`AuditChain`),
/// with time, actor, address, client, grant and outcome, never a secret (no code, token,
/// password or session). `audit_log`: a file (appended, mode 0600, the chain continued across
/// restarts), `-` for standard output, `off`. Each replica writes its own chain.
public final class AuditTrail: @unchecked Sendable {
    private let lock = NSLock()
    private let fd: Int32?
    private var seq: Int
    private var prev: String
    let clock: any WallClock

    /// No trail (tests, `audit_log = "off"`).
    public static let disabled = AuditTrail(fd: nil, seq: 1, prev: AuditChain.origin, clock: SystemClock())

    init(fd: Int32?, seq: Int, prev: String, clock: any WallClock) {
        (self.fd, self.seq, self.prev, self.clock) = (fd, seq, prev, clock)
    }

    public struct OpenFailure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Opens `path` for appending (creating it 0600), continuing the chain of its last line. A
    /// last line that is not an audit line (a torn write, an edit) stops the start with a clear
    /// error rather than silently beginning a new chain. Several processes may write one file
    /// (`serve` and `hallpass grants revoke`): each line is written under an exclusive `flock`,
    /// after re-reading the chain's end when another process moved it. `-` takes standard output
    /// for the trail alone: everything else the process prints there goes to standard error.
    public static func open(_ path: String, clock: any WallClock = SystemClock()) throws -> AuditTrail {
        if path == "-" {
            let fd = dup(STDOUT_FILENO)
            guard fd >= 0, dup2(STDERR_FILENO, STDOUT_FILENO) >= 0 else { throw OpenFailure(description: "cannot take standard output for the audit log") }
            return AuditTrail(fd: fd, seq: 1, prev: AuditChain.origin, clock: clock)
        }
        let fd = Foundation.open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OpenFailure(description: "cannot open the audit log \(path): \(String(cString: strerror(errno)))") }
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN) }
        guard let (seq, prev, end) = Self.chainEnd(fd) else {
            close(fd)
            throw OpenFailure(description: "the audit log \(path) does not end with an audit line; check it with "
                              + "hallpass audit verify, then move it aside")
        }
        let trail = AuditTrail(fd: fd, seq: seq, prev: prev, clock: clock)
        trail.end = end
        trail.shared = true
        return trail
    }

    /// Where the file's chain ends: the next seq, the last hash and the file's size (a missing
    /// final newline is written first). Only the last 64 KiB are read. Nil when the last line
    /// is not an audit line.
    static func chainEnd(_ fd: Int32) -> (seq: Int, prev: String, end: off_t)? {
        var size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return (1, AuditChain.origin, 0) }
        let start = max(0, size - 65_536)
        var tail = [UInt8](repeating: 0, count: Int(size - start))
        let read = pread(fd, &tail, tail.count, start)
        let lines = tail.prefix(max(0, read)).split(separator: UInt8(ascii: "\n"))
        guard let last = lines.last, let object = (try? JSONSerialization.jsonObject(with: Data(last))) as? [String: Any],
              let hash = object["hash"] as? String, let lastSeq = object["seq"] as? Int
        else { return nil }
        if tail.last != UInt8(ascii: "\n"), write(fd, "\n", 1) == 1 { size += 1 }
        return (lastSeq + 1, hash, size)
    }

    /// The file's size after this process's last line; another writer moved it when it differs.
    private var end: off_t = 0
    private var shared = false

    /// One event. Values supplied by clients or devices are written as JSON strings (escaped),
    /// so a line can never be split or forged by them.
    public func record(_ event: String, outcome: String, actor: String? = nil, address: String? = nil, client: String? = nil,
                       grant: String? = nil, detail: String? = nil) {
        guard let fd else { return }
        var fields: [String: any Sendable] = ["event": event, "outcome": outcome,
                                              "time": clock.now.formatted(.iso8601)]
        fields["actor"] = actor
        fields["address"] = address
        fields["client"] = client
        fields["grant"] = grant
        fields["detail"] = detail
        lock.lock()
        defer { lock.unlock() }
        if shared {
            flock(fd, LOCK_EX)
            if lseek(fd, 0, SEEK_END) != end, let (nextSeq, lastHash, size) = Self.chainEnd(fd) {
                (seq, prev, end) = (nextSeq, lastHash, size)
            }
        }
        defer { if shared { flock(fd, LOCK_UN) } }
        let (line, hash) = AuditChain.line(fields, seq: seq, prev: prev)
        let bytes = Array((line + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { return }    // a failed write leaves the chain where it was
        (seq, prev) = (seq + 1, hash)
        end += off_t(written)
    }
}
