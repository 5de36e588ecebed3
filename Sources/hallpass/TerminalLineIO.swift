import Foundation
import HallpassTUI

/// Plain-mode prompts on standard input and output; secrets are read with echo off when
/// standard input is a terminal.
final class TerminalLineIO: LineIO {
    func ask(_ prompt: String) -> String? {
        FileHandle.standardOutput.write(Data(prompt.utf8))
        return readLine(strippingNewline: true).map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
    }

    func askSecret(_ prompt: String) -> String? {
        guard isatty(STDIN_FILENO) == 1 else { return ask(prompt) }
        var saved = termios()
        tcgetattr(STDIN_FILENO, &saved)
        var quiet = saved
        quiet.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
        return ask(prompt)
    }

    func say(_ line: String) {
        writeOut(line)
    }
}
