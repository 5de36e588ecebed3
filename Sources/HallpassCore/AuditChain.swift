import Crypto
import Foundation

/// The audit trail's lines (issue 17): one JSON object per line, hash-chained. Each line is
///
///     {"hash":"<SHA-256 of prev and the rest>","event":…,"prev":"<hash of the line before>","seq":N,…}
///
/// where the rest is the object without `hash`, keys sorted. `verify` reports the first line that
/// was changed, removed, inserted or moved. It cannot see lines cut from the end or the start (a
/// rotated file begins anywhere), nor an editor who rewrites every hash after a change; ship
/// lines off the host as they are written (`audit_log = "-"` to a collector) for those.
public enum AuditChain {
    /// The `prev` of the first line.
    public static let origin = String(repeating: "0", count: 64)

    /// The line for `fields` (strings, integers, booleans; never a secret), number `seq`, after
    /// the line whose hash is `prev`. Returns the line (without newline) and its hash.
    public static func line(_ fields: [String: any Sendable], seq: Int, prev: String) -> (line: String, hash: String) {
        var object = fields.filter { $0.key != "hash" && $0.key != "prev" && $0.key != "seq" }.mapValues(Value.init)
        object["seq"] = .int(seq)
        object["prev"] = .string(prev)
        let body = String(decoding: (try? encoder.encode(object)) ?? Data("{}".utf8), as: UTF8.self)
        let hash = digest(prev: prev, body: body)
        return ("{\"hash\":\"\(hash)\"," + body.dropFirst(), hash)
    }

    /// Sorted keys, so a line's body is one text for one content. `verify` hashes the text as
    /// written, so the encoder may change without breaking older trails (it was
    /// JSONSerialization, about 8 % of a refresh's CPU).
    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// A field's value: text, a number or a flag.
    enum Value: Encodable {
        case string(String), int(Int), bool(Bool)

        init(_ value: any Sendable) {
            switch value {
            case let int as Int: self = .int(int)
            case let bool as Bool: self = .bool(bool)
            case let string as String: self = .string(string)
            default: self = .string(String(describing: value))
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .string(let text): try container.encode(text)
            case .int(let number): try container.encode(number)
            case .bool(let flag): try container.encode(flag)
            }
        }
    }

    static func digest(prev: String, body: String) -> String {
        let hex = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(64)
        for byte in SHA256.hash(data: Data((prev + "\n" + body).utf8)) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// What is wrong with a trail, at its first bad line (1-based).
    public enum Break: Equatable, Sendable, CustomStringConvertible {
        case malformed(line: Int)
        /// The line's content does not match its own hash: it was edited.
        case changed(line: Int)
        /// The line does not follow the one before it: a line was removed, inserted or moved.
        case broken(line: Int, expectedSeq: Int, foundSeq: Int)

        public var description: String {
            switch self {
            case .malformed(let n): "line \(n) is not an audit line"
            case .changed(let n): "line \(n) was changed (its hash does not match its content)"
            case .broken(let n, let expected, let found):
                found > expected ? "line \(n) follows a gap: line(s) \(expected)…\(found - 1) were removed (or it was moved)"
                    : "line \(n) is out of order or inserted (sequence \(found), expected \(expected))"
            }
        }
    }

    /// Checks every line; nil when the trail is whole. A trail may start at any sequence number
    /// (a rotated file), and its first line's `prev` is taken as given.
    public static func verify(_ lines: [Substring]) -> Break? {
        var expectedPrev: String?
        var expectedSeq: Int?
        for (index, raw) in lines.enumerated() where !raw.isEmpty {
            let number = index + 1
            let prefix = "{\"hash\":\""
            guard raw.hasPrefix(prefix), raw.count > prefix.count + 66 else { return .malformed(line: number) }
            let hashStart = raw.index(raw.startIndex, offsetBy: prefix.count)
            let hashEnd = raw.index(hashStart, offsetBy: 64)
            let hash = String(raw[hashStart..<hashEnd])
            guard raw[hashEnd...].hasPrefix("\",") else { return .malformed(line: number) }
            let body = "{" + raw[raw.index(hashEnd, offsetBy: 2)...]
            guard let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any],
                  let seq = object["seq"] as? Int, let prev = object["prev"] as? String
            else { return .malformed(line: number) }
            guard digest(prev: prev, body: body) == hash else { return .changed(line: number) }
            if let expectedSeq, seq != expectedSeq { return .broken(line: number, expectedSeq: expectedSeq, foundSeq: seq) }
            if let expectedPrev, prev != expectedPrev { return .changed(line: number - 1) }
            (expectedPrev, expectedSeq) = (hash, seq + 1)
        }
        return nil
    }
}
