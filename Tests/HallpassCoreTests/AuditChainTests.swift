import Foundation
import HallpassCore
import Testing

/// The audit trail's hash chain (issue 17): every kind of tampering is found at its first line.
@Suite struct AuditChainTests {
    func trail(_ count: Int = 5) -> [String] {
        var (lines, prev) = ([String](), AuditChain.origin)
        for n in 1...count {
            let (line, hash) = AuditChain.line(["event": "login", "outcome": n % 2 == 0 ? "ok" : "failed", "actor": "alice \"\n\u{1B}"],
                                               seq: n, prev: prev)
            lines.append(line)
            prev = hash
        }
        return lines
    }

    func verify(_ lines: [String]) -> AuditChain.Break? { AuditChain.verify(lines.map { Substring($0) }) }

    @Test func aWholeTrailVerifiesAndEachTamperingIsNamed() {
        let lines = trail()
        #expect(verify(lines) == nil)
        #expect(lines.allSatisfy { !$0.contains("\n") && $0.hasPrefix("{\"hash\":\"") })     // one line each, control text escaped
        var edited = lines
        edited[2] = edited[2].replacingOccurrences(of: "\"failed\"", with: "\"ok\"")
        #expect(verify(edited) == .changed(line: 3))
        var removed = lines
        removed.remove(at: 2)
        #expect(verify(removed) == .broken(line: 3, expectedSeq: 3, foundSeq: 4))
        var swapped = lines
        swapped.swapAt(1, 2)
        #expect(verify(swapped) == .broken(line: 2, expectedSeq: 2, foundSeq: 3))
        var duplicated = lines
        duplicated.insert(lines[1], at: 2)
        #expect(verify(duplicated) == .broken(line: 3, expectedSeq: 3, foundSeq: 2))
        // An editor who recomputes the changed line's own hash is caught by the next line.
        var rehashed = lines
        rehashed[1] = AuditChain.line(["event": "login", "outcome": "ok", "actor": "mallory"], seq: 2,
                                      prev: String(lines[0].dropFirst(9).prefix(64))).line
        #expect(verify(rehashed) == .changed(line: 2))
        var last = lines
        last[4] = last[4].replacingOccurrences(of: "alice", with: "bob")
        #expect(verify(last) == .changed(line: 5))
        #expect(verify(lines + ["not json"]) == .malformed(line: 6))
        #expect(verify(Array(lines.dropFirst(2))) == nil)        // a rotated file starts anywhere
        #expect(AuditChain.Break.broken(line: 3, expectedSeq: 3, foundSeq: 4).description.contains("removed"))
    }

    /// `verify` hashes each line's text as written, so trails written by an earlier encoder
    /// (JSONSerialization, until issue 20) still verify, and a line's content is checked, not
    /// its formatting.
    @Test func aLineFromTheEarlierEncoderStillVerifies() {
        let written = #"{"hash":"97b60f5ac4a2d29c1e584346793e9aa1ac6158bde5cda2c3c128f63034a39b36","actor":"alice","address":"127.0.0.1","event":"login","outcome":"ok","prev":"0000000000000000000000000000000000000000000000000000000000000000","seq":1,"time":"2026-12-01T10:00:00Z"}"#
        #expect(verify([written]) == nil)
        #expect(verify([written.replacingOccurrences(of: "\"ok\"", with: "\"failed\"")]) == .changed(line: 1))
        let next = AuditChain.line(["event": "logout", "outcome": "ok"], seq: 2, prev: String(written.dropFirst(9).prefix(64)))
        #expect(verify([written, next.line]) == nil)
        #expect(next.line.contains(#""seq":2"#) && next.hash.count == 64 && next.hash.allSatisfy(\.isHexDigit))
    }
}
