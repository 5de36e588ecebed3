import Foundation
import Logging

/// `serve --log-format json` (issue 21): one JSON object per line, for a log pipeline.
///
/// `{"time":"2026-12-07T16:50:00.123Z","level":"info","message":"…","logger":"hallpass",…}`,
/// then the metadata as fields: Hummingbird's `hb.request.id` is written `request_id`; integers
/// and decimals stay numbers, so `status` and `duration_ms` of the access log can be summed.
/// Each line is one `write(2)` under a lock, so lines from concurrent requests never interleave.
/// What goes into a log is decided where it is logged: no secret, code or token is ever put in
/// a message or metadata (a test greps a full run's logs for every secret it used).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let sink: LogSink

    public init(label: String, sink: LogSink = .standardError, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.sink = sink
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let own = event.metadata { fields.merge(own) { _, new in new } }
        if let error = event.error, fields["error"] == nil { fields["error"] = .string(String(describing: error)) }
        sink.write(Self.line(time: Date(), level: event.level, message: event.message.description,
                             label: label, fields: fields))
    }

    /// One line, newline included. Fixed fields first, then the metadata in key order.
    static func line(time: Date, level: Logger.Level, message: String, label: String, fields: Logger.Metadata) -> String {
        var out = "{\"time\":\"\(Self.timestamp(time))\",\"level\":\"\(level.rawValue)\",\"message\":"
        JSONText.appendString(message, to: &out)
        out += ",\"logger\":"
        JSONText.appendString(label, to: &out)
        for key in fields.keys.sorted() where !["time", "level", "message", "logger"].contains(key) {
            out += ","
            JSONText.appendString(key == "hb.request.id" ? "request_id" : key, to: &out)
            out += ":"
            JSONText.append(fields[key]!, to: &out)
        }
        return out + "}\n"
    }

    /// RFC 3339 in UTC with milliseconds: `2026-12-07T16:50:00.123Z`.
    public static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var time = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis % 1000), 3))Z"
    }
}

/// Where log lines go: standard error by default (systemd's journal takes it), or a closure in
/// tests.
public final class LogSink: Sendable {
    let writeLine: @Sendable (String) -> Void

    public init(_ writeLine: @escaping @Sendable (String) -> Void) {
        self.writeLine = writeLine
    }

    public func write(_ line: String) { writeLine(line) }

    public static let standardError: LogSink = {
        let lock = NSLock()
        return LogSink { line in
            lock.lock()
            defer { lock.unlock() }
            var bytes = Array(line.utf8)
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress! + offset, $0.count - offset) }
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
            bytes.removeAll()
        }
    }()
}
