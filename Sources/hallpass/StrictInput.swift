import Foundation
import HallpassCore

/// What an administrator hands the CLI must be UTF-8, checked on the raw bytes: Swift's
/// `CommandLine.arguments`, `ProcessInfo.environment` and `readLine` would silently turn a bad
/// byte into U+FFFD, and a client name or password would be stored as something nobody typed.
enum StrictInput {
    /// Exits with status 64 (EX_USAGE) naming the first argument or `HALLPASS_*` variable that is
    /// not UTF-8. Runs before the argument parser sees anything.
    static func refuseInvalidArgumentsAndEnvironment() {
        for index in 1..<Int(CommandLine.argc) {
            guard let pointer = CommandLine.unsafeArgv[index] else { continue }
            let bytes = UnsafeBufferPointer(start: pointer, count: strlen(pointer)).map { UInt8(bitPattern: $0) }
            do throws(StrictUTF8.Invalid) {
                _ = try StrictUTF8.decode(bytes)
            } catch {
                refuse("argument \(index) ('\(error.shown)') is \(error)")
            }
        }
        var entry = environ
        while let pointer = entry.pointee {
            let bytes = UnsafeBufferPointer(start: pointer, count: strlen(pointer)).map { UInt8(bitPattern: $0) }
            if bytes.starts(with: Array("HALLPASS_".utf8)) {
                do throws(StrictUTF8.Invalid) {
                    _ = try StrictUTF8.decode(bytes)
                } catch {
                    let name = String(decoding: bytes.prefix { $0 != UInt8(ascii: "=") }, as: UTF8.self)
                    refuse("environment variable \(TerminalText.sanitize(name)) is \(error)")
                }
            }
            entry += 1
        }
    }

    private static func refuse(_ message: String) -> Never {
        FileHandle.standardError.write(Data("hallpass: \(message); Hallpass keeps text as UTF-8 and never replaces bytes\n".utf8))
        exit(64)
    }

    /// Standard input's first line as raw bytes (without its CR LF or LF), read a byte at a time
    /// so nothing after it is consumed; nil at end of input with nothing read. A line longer
    /// than `limit` or a failed read is an error, never a shortened secret.
    static func readLineBytes(what: String, limit: Int = 64 * 1024) throws -> [UInt8]? {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            let got = read(STDIN_FILENO, &byte, 1)
            if got < 0 {
                if errno == EINTR { continue }
                throw CLIError("could not read the \(what) from standard input: \(String(cString: strerror(errno)))")
            }
            if got == 0 { if line.isEmpty { return nil } else { break } }
            if byte == UInt8(ascii: "\n") { break }
            guard line.count < limit else {
                throw CLIError("the \(what) on standard input is longer than \(limit) bytes; nothing was stored")
            }
            line.append(byte)
        }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }

    /// `bytes` as text, or a CLI error saying `what` is not UTF-8 and where.
    static func text(_ bytes: [UInt8], what: String) throws -> String {
        do throws(StrictUTF8.Invalid) {
            return try StrictUTF8.decode(bytes)
        } catch {
            throw CLIError("the \(what) is \(error); Hallpass keeps text as UTF-8 and never replaces bytes")
        }
    }
}
