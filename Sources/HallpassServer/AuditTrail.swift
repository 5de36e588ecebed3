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

    /// Opens `path` for appending (creating it 0600), continuing the chain of its last line;
    /// `-` writes to standard output.
    public static func open(_ path: String, clock: any WallClock = SystemClock()) throws -> AuditTrail {
        if path == "-" { return AuditTrail(fd: STDOUT_FILENO, seq: 1, prev: AuditChain.origin, clock: clock) }
        let fd = Foundation.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OpenFailure(description: "cannot open the audit log \(path): \(String(cString: strerror(errno)))") }
        var (seq, prev) = (1, AuditChain.origin)
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
           let last = text.split(separator: "\n").last,
           let object = (try? JSONSerialization.jsonObject(with: Data(last.utf8))) as? [String: Any],
           let hash = object["hash"] as? String, let lastSeq = object["seq"] as? Int {
            (seq, prev) = (lastSeq + 1, hash)
        }
        return AuditTrail(fd: fd, seq: seq, prev: prev, clock: clock)
    }

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
        let (line, hash) = AuditChain.line(fields, seq: seq, prev: prev)
        let bytes = Array((line + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { return }    // a failed write leaves the chain where it was
        (seq, prev) = (seq + 1, hash)
    }
}
