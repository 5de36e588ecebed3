import HallpassServer
import Logging

/// `serve`'s log (issue 21): `log_format` text (swift-log's lines) or JSON lines on standard
/// error at `log_level`; the access log is a middleware (`AccessLogMiddleware`).
enum ServerLogging {
    /// Installs the process's log handler once, before anything logs, and returns serve's logger.
    static func bootstrap(_ settings: ServerSettings) -> Logger {
        let level = settings.logLevel
        switch settings.logFormat {
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        }
        return Logger(label: "hallpass")
    }

    /// A startup line: on standard output as text, or a `notice` record when the log is JSON
    /// (so every line a JSON log pipeline reads parses). The demo user's password, shown once, is
    /// never a log record: `DemoSeed` writes it to standard output in both formats.
    static func announce(_ line: String, _ settings: ServerSettings, _ logger: Logger) {
        switch settings.logFormat {
        case .text: writeOut(line)
        case .json: logger.notice("\(line.hasPrefix("hallpass: ") ? String(line.dropFirst(10)) : line)")
        }
    }
}
