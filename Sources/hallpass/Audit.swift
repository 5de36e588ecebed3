import ArgumentParser
import Foundation
import HallpassCore

/// `hallpass audit verify FILE` (issue 17): checks an audit trail's hash chain and names the
/// first changed, removed, inserted or moved line.
struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the audit trail.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an audit trail's hash chain: exit 0 when every line is as written, 1 with the first bad line.")
        @Argument(help: "The audit log (audit_log; default DB.audit.jsonl).") var file: String

        func run() async throws {
            try await runReporting {
                guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
                // Strict UTF-8 per line: bytes swapped for U+FFFD would otherwise pass as text.
                var lines: [Substring] = []
                for (index, bytes) in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
                    guard let text = String(validating: bytes, as: UTF8.self) else {
                        throw CLIError("\(file): \(AuditChain.Break.malformed(line: index + 1)) (not UTF-8)")
                    }
                    lines.append(Substring(text))
                }
                let count = lines.filter { !$0.isEmpty }.count
                if let problem = AuditChain.verify(lines) { throw CLIError("\(file): \(problem)") }
                writeOut("\(file): \(count) line\(count == 1 ? "" : "s"), the chain is whole")
            }
        }
    }
}
