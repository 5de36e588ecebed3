/// What a request head says about its framing, gathered field by field (RFC 9112 §3, §5, §6).
struct HeadFacts: Sendable, Equatable {
    enum Framing: Equatable { case none, length(Int), chunked }

    var isHTTP11 = true
    var contentLength: Int?
    var contentLengthCount = 0
    var transferEncoding: [UInt8]?
    var hostCount = 0
    var upgradesToWebSocket = false

    /// RFC 9112 §3: method SP request-target SP HTTP-version, nothing else.
    mutating func readRequestLine(_ line: [UInt8]) -> HTTPRequestScanner.Rejection? {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .bad("a request line must be 'METHOD target HTTP/1.1'") }
        let (method, target, version) = (parts[0], parts[1], parts[2])
        guard !method.isEmpty, method.allSatisfy(Self.isTokenByte) else { return .bad("the method is not an HTTP token") }
        guard !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return .bad("the request target is empty or holds bytes that are not visible ASCII")
        }
        switch Array(version) {
        case Array("HTTP/1.1".utf8): isHTTP11 = true
        case Array("HTTP/1.0".utf8): isHTTP11 = false
        case let v where v.count == 8 && v.starts(with: Array("HTTP/".utf8)) && v[5] >= 0x30 && v[5] <= 0x39
                && v[6] == 0x2E && v[7] >= 0x30 && v[7] <= 0x39:
            return HTTPRequestScanner.Rejection(505, "only HTTP/1.1 and HTTP/1.0 are served here")
        default:
            return .bad("the request line does not end with an HTTP version")
        }
        return nil
    }

    /// One field line; remembers the fields that decide framing.
    mutating func readField(_ line: [UInt8]) -> HTTPRequestScanner.Rejection? {
        if let rejection = Self.checkField(line) { return rejection }
        let colon = line.firstIndex(of: 0x3A)!
        let name = line[..<colon]
        let value = Self.trimmed(line[(colon + 1)...])
        // Only the names that decide framing are looked at (4, 7, 14 or 17 bytes long).
        guard [4, 7, 14, 17].contains(name.count) else { return nil }
        switch Self.lowercased(name) {
        case "content-length":
            contentLengthCount += 1
            // RFC 9112 §6.3 ¶5: a list or a repeated field is refused rather than guessed at.
            guard contentLengthCount == 1 else { return .bad("more than one Content-Length") }
            guard !value.isEmpty, value.count <= 18, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return .bad("Content-Length must be one non-negative decimal number")
            }
            contentLength = value.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        case "transfer-encoding":
            transferEncoding = (transferEncoding.map { $0 + Array(",".utf8) } ?? []) + value
        case "host":
            hostCount += 1
        case "upgrade":
            upgradesToWebSocket = Self.lowercased(value).contains("websocket")
        default:
            break
        }
        return nil
    }

    /// RFC 9112 §6.3: how the body is delimited, or why it cannot be.
    func framing() -> Result<Framing, HTTPRequestScanner.Rejection> {
        // RFC 9112 §3.2: exactly one Host in an HTTP/1.1 request.
        if isHTTP11, hostCount != 1 {
            return .failure(.bad(hostCount == 0 ? "an HTTP/1.1 request needs a Host field" : "more than one Host field"))
        }
        if let transferEncoding {
            // RFC 9112 §6.1: a request with both is refused (it is how requests are smuggled).
            guard contentLength == nil else { return .failure(.bad("Content-Length together with Transfer-Encoding")) }
            guard isHTTP11 else { return .failure(.bad("Transfer-Encoding in an HTTP/1.0 request")) }
            let codings = Self.lowercased(transferEncoding[...]).split(separator: ",")
                .map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
            guard codings == ["chunked"] else {
                // RFC 9112 §6.1, §7: chunked exactly once and last; any other coding is not ours.
                if codings.filter({ $0 == "chunked" }).count > 1 { return .failure(.bad("chunked applied more than once")) }
                return .failure(HTTPRequestScanner.Rejection(501, "only the chunked transfer coding is supported"))
            }
            return .success(.chunked)
        }
        return .success(contentLength.map { .length($0) } ?? .none)
    }

    /// RFC 9110 §5.1, §5.5, RFC 9112 §5.1–5.2: `token ":" OWS value OWS`, no whitespace before
    /// the colon, no obsolete line folding, no control characters in the value.
    static func checkField(_ line: [UInt8]) -> HTTPRequestScanner.Rejection? {
        if let first = line.first, first == 0x20 || first == 0x09 {
            return .bad("obsolete line folding in a header field (RFC 9112 §5.2)")
        }
        guard let colon = line.firstIndex(of: 0x3A) else { return .bad("a header field without a colon") }
        guard colon > 0, line[..<colon].allSatisfy(isTokenByte) else {
            return .bad("a header field name that is not an HTTP token")
        }
        guard line[(colon + 1)...].allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            return .bad("a control character in a header field value")
        }
        return nil
    }

    /// RFC 9110 §5.6.2 tchar.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }

    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return slice
    }

    static func lowercased(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> String {
        String(decoding: HeadFacts.trimmed(ArraySlice(utf8)), as: UTF8.self)
    }
}
