import Foundation

/// A parsed `application/x-www-form-urlencoded` request body (RFC 6749 §3.2, Appendix B),
/// strict the way an authorization server must be: invalid UTF-8 or percent-encoding is
/// rejected, and a parameter sent twice is `invalid_request` (RFC 6749 §3.1).
public struct FormBody: Sendable {
    public private(set) var fields: [String: String] = [:]

    public init(fields: [String: String]) { self.fields = fields }

    public init(parsing bytes: [UInt8]) throws(OAuthError) {
        guard !bytes.isEmpty else { return }
        for pair in bytes.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            let name = try FormBody.decode(parts[0])
            let value = parts.count > 1 ? try FormBody.decode(parts[1]) : ""
            guard !name.isEmpty else { throw OAuthError(.invalidRequest, "malformed form body") }
            guard fields[name] == nil else {
                throw OAuthError(.invalidRequest, "parameter \(FormBody.quoted(name)) is repeated")
            }
            fields[name] = value
        }
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
