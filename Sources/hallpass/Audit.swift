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
                let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                let count = lines.filter { !$0.isEmpty }.count
                if let problem = AuditChain.verify(lines) { throw CLIError("\(file): \(problem)") }
                writeOut("\(file): \(count) line\(count == 1 ? "" : "s"), the chain is whole")
            }
        }
    }
}
