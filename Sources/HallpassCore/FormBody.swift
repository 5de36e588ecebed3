import Foundation

/// A parsed `application/x-www-form-urlencoded` request body (RFC 6749 §3.2, Appendix B),
/// strict the way an authorization server must be: invalid UTF-8 or percent-encoding is
/// rejected, and a parameter sent twice is `invalid_request` (RFC 6749 §3.1).
public struct FormBody: Sendable {
    public private(set) var fields: [String: String] = [:]

    public init(fields: [String: String]) { self.fields = fields }

    public init(parsing bytes: [UInt8]) throws(OAuthError) {
        for (name, value) in try FormBody.pairs(parsing: bytes) {
            guard fields[name] == nil else {
                throw OAuthError(.invalidRequest, "parameter \(FormBody.quoted(name)) is repeated")
            }
            fields[name] = value
        }
    }

    /// Every name and value in order, repeats kept: for the authorization endpoint, which must
    /// know whether `client_id` and `redirect_uri` are sound before it may say what else is wrong.
    public static func pairs(parsing bytes: some Collection<UInt8>) throws(OAuthError) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        for pair in Array(bytes).split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = try FormBody.decode(parts[0])
            let value = parts.count > 1 ? try FormBody.decode(parts[1]) : ""
            guard !name.isEmpty else { throw OAuthError(.invalidRequest, "malformed form body") }
            pairs.append((name, value))
        }
        return pairs
    }

    /// `application/x-www-form-urlencoded` serialization (WHATWG URL §5.2), for query strings
    /// Hallpass writes: everything but ALPHA / DIGIT / `*-._` is percent-encoded, space as `+`.
    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    /// RFC 6749 §2.3.1: the client id and secret are form-encoded before HTTP Basic.
    public static func escapeForBasic(_ text: String) -> String { escape(text) }

    static func escape(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out = [UInt8]()
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
                out.append(byte)
            case UInt8(ascii: " "):
                out.append(UInt8(ascii: "+"))
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public subscript(_ name: String) -> String? {
        // RFC 6749 §3.1: parameters sent without a value are treated as omitted.
        guard let value = fields[name], !value.isEmpty else { return nil }
        return value
    }

    /// The parameter or `invalid_request` naming it.
    public func require(_ name: String) throws(OAuthError) -> String {
        guard let value = self[name] else { throw OAuthError(.invalidRequest, "missing parameter \(name)") }
        return value
    }

    public static func quoted(_ name: String) -> String {
        let clean = String(TerminalText.sanitize(name).prefix(40))
        return "'\(clean)'"
    }

    private static func decode(_ raw: ArraySlice<UInt8>) throws(OAuthError) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index != raw.endIndex {
            let byte = raw[index]
            if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                let hi = raw.index(after: index)
                guard hi != raw.endIndex, raw.index(after: hi) != raw.endIndex,
                      let h = hexValue(raw[hi]), let l = hexValue(raw[raw.index(after: hi)])
                else { throw OAuthError(.invalidRequest, "malformed percent-encoding in form body") }
                out.append(h << 4 | l)
                index = raw.index(after: hi)
            } else {
                out.append(byte)
            }
            index = raw.index(after: index)
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw OAuthError(.invalidRequest, "form body is not valid UTF-8")
        }
        return text
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
