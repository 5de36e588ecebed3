/// The framing of HTTP/1.1 requests as they arrive on a connection, checked byte by byte before
/// the HTTP decoder sees them (RFC 9112). It finds where each request head and body ends, and
/// refuses — with the status RFC 9110/9112 give — whatever the decoder would otherwise hang on:
/// a garbage request line, bare LF or CR line endings, an over-long target (414), oversized or
/// too many header fields (431), conflicting or invalid `Content-Length`, `Content-Length`
/// together with `Transfer-Encoding`, and badly formed chunks.
///
/// A value with no I/O: the server's edge handler feeds it what it reads and acts on the `Event`s.
public struct HTTPRequestScanner: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Longest request line, CRLF excluded (beyond it: 414 while in the target, else 400).
        public var requestLine = 8 * 1024
        /// Longest single header field line (431).
        public var fieldLine = 8 * 1024
        /// Most header fields in one head (431).
        public var fieldCount = 100
        /// Most bytes in a head, request line included (431).
        public var headBytes = 32 * 1024
        public init() {}
    }

    /// Why a request is refused, with its HTTP status.
    public struct Rejection: Error, Equatable, Sendable {
        public let status: Int
        public let reason: String
        init(_ status: Int, _ reason: String) {
            self.status = status
            self.reason = reason
        }
        public init(status: Int, reason: String) { self.init(status, reason) }
        static func bad(_ reason: String) -> Rejection { Rejection(400, reason) }
    }

    public enum Event: Equatable, Sendable {
        /// A head is complete. `upgrade`: it asks for a WebSocket (RFC 6455 §4.2.1), after which
        /// the bytes that follow may not be HTTP at all.
        case headComplete(upgrade: Bool)
        /// A whole request (head and body) has arrived.
        case requestComplete
        /// The request is refused; nothing after this point can be framed.
        case rejected(Rejection)
    }

    enum State: Equatable, Sendable {
        case requestLine
        case fields
        case body(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case done
    }

    public let limits: Limits
    var state = State.requestLine
    /// The line being read (without its line ending).
    var line: [UInt8] = []
    /// A CR has been seen and an LF must follow.
    var sawCR = false
    var headSize = 0
    var fieldCount = 0
    var leadingBlankLines = 0
    var head = HeadFacts()

    public init(limits: Limits = Limits()) {
        self.limits = limits
        line.reserveCapacity(128)
    }

    /// True between the first byte of a request and the end of its head.
    public var isInHead: Bool {
        switch state {
        case .requestLine: !line.isEmpty || sawCR || leadingBlankLines > 0
        case .fields: true
        default: false
        }
    }

    /// True while a body (or its chunked trailer) is still due.
    public var isInBody: Bool {
        switch state {
        case .body, .chunkSize, .chunkData, .chunkDataEnd, .trailers: true
        default: false
        }
    }

    /// Reads from `bytes` up to and including the byte that causes the next event. Returns how
    /// many bytes were read and that event, or nil when all of them were read without one.
    /// After `.rejected` every further call rejects again.
    public mutating func scan<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> (consumed: Int, event: Event?) {
        var consumed = 0
        var index = bytes.startIndex
        while index != bytes.endIndex {
            if case .done = state { return (consumed, .rejected(.bad("the connection can carry no further request"))) }
            // Bodies are skipped in bulk, never copied.
            if case .body(let remaining) = state {
                let take = min(remaining, bytes.distance(from: index, to: bytes.endIndex))
                index = bytes.index(index, offsetBy: take)
                consumed += take
                if take == remaining { return (consumed, finishRequest()) }
                state = .body(remaining: remaining - take)
                continue
            }
            if case .chunkData(let remaining) = state {
                let take = min(remaining, bytes.distance(from: index, to: bytes.endIndex))
                index = bytes.index(index, offsetBy: take)
                consumed += take
                state = take == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - take)
                continue
            }
            let byte = bytes[index]
            index = bytes.index(after: index)
            consumed += 1
            if let event = take(byte) { return (consumed, event) }
        }
        return (consumed, nil)
    }

    /// One byte of a line-oriented part (request line, fields, chunk sizes, trailers).
    mutating func take(_ byte: UInt8) -> Event? {
        if sawCR {
            sawCR = false
            guard byte == 0x0A else { return reject(.bad("a CR not followed by LF (RFC 9112 §2.2)")) }
            return endOfLine()
        }
        switch byte {
        case 0x0D:
            sawCR = true
            return nil
        case 0x0A:
            return reject(.bad("bare LF line ending; lines end with CRLF (RFC 9112 §2.2)"))
        default:
            line.append(byte)
            if isHeadState { headSize += 1 }
            return checkLength()
        }
    }

    var isHeadState: Bool { state == .requestLine || state == .fields }

    mutating func checkLength() -> Event? {
        switch state {
        case .requestLine where line.count > limits.requestLine:
            // Still in the target (one space seen so far): the URI is what is too long.
            let spaces = line.lazy.filter { $0 == 0x20 }.count
            return reject(spaces == 1 ? Rejection(414, "the request target is longer than \(limits.requestLine) bytes")
                                      : .bad("the request line is longer than \(limits.requestLine) bytes"))
        case .fields, .trailers:
            if line.count > limits.fieldLine {
                return reject(Rejection(431, "a header field is longer than \(limits.fieldLine) bytes"))
            }
            if state == .fields, headSize > limits.headBytes {
                return reject(Rejection(431, "the request head is larger than \(limits.headBytes / 1024) KiB"))
            }
        case .chunkSize where line.count > 256:
            return reject(.bad("a chunk-size line is longer than 256 bytes"))
        default: break
        }
        return nil
    }

    mutating func endOfLine() -> Event? {
        defer { line.removeAll(keepingCapacity: true) }
        switch state {
        case .requestLine:
            if line.isEmpty {
                // RFC 9112 §2.2: at least one empty line before the request line is ignored.
                leadingBlankLines += 1
                return leadingBlankLines > 4 ? reject(.bad("empty lines instead of a request line")) : nil
            }
            if let rejection = head.readRequestLine(line) { return reject(rejection) }
            headSize += 2
            state = .fields
            return nil
        case .fields:
            headSize += 2
            if line.isEmpty { return endOfHead() }
            fieldCount += 1
            if fieldCount > limits.fieldCount {
                return reject(Rejection(431, "more than \(limits.fieldCount) header fields"))
            }
            if let rejection = head.readField(line) { return reject(rejection) }
            return nil
        case .chunkSize:
            return readChunkSize()
        case .chunkDataEnd:
            guard line.isEmpty else { return reject(.bad("chunk data longer than its chunk-size")) }
            state = .chunkSize
            return nil
        case .trailers:
            if line.isEmpty { return finishRequest() }
            if let rejection = HeadFacts.checkField(line) { return reject(rejection) }
            return nil
        case .body, .chunkData, .done:
            return nil
        }
    }

    mutating func endOfHead() -> Event? {
        switch head.framing() {
        case .failure(let rejection):
            return reject(rejection)
        case .success(let framing):
            let upgrade = head.upgradesToWebSocket
            switch framing {
            case .length(let n) where n > 0: state = .body(remaining: n)
            case .chunked: state = .chunkSize
            default: resetForNextRequest()   // no body: the next byte starts the next request
            }
            return .headComplete(upgrade: upgrade)
        }
    }

    /// RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF, with chunk-size = 1*HEXDIG.
    mutating func readChunkSize() -> Event? {
        let digits = line.prefix { $0 != 0x3B && $0 != 0x20 && $0 != 0x09 }
        guard !digits.isEmpty, digits.count <= 15 else {
            return reject(.bad(digits.isEmpty ? "a chunk without a chunk-size" : "a chunk-size out of range"))
        }
        var size = 0
        for digit in digits {
            guard let value = Self.hexValue(digit) else { return reject(.bad("a chunk-size that is not hexadecimal")) }
            size = size * 16 + value
        }
        let rest = line.dropFirst(digits.count).drop { $0 == 0x20 || $0 == 0x09 }
        if let first = rest.first, first != 0x3B { return reject(.bad("text after a chunk-size that is not a chunk extension")) }
        if rest.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
            return reject(.bad("a control character in a chunk extension"))
        }
        state = size == 0 ? .trailers : .chunkData(remaining: size)
        return nil
    }

    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }

    mutating func finishRequest() -> Event {
        resetForNextRequest()
        return .requestComplete
    }

    mutating func resetForNextRequest() {
        state = .requestLine
        sawCR = false
        headSize = 0
        fieldCount = 0
        leadingBlankLines = 0
        head = HeadFacts()
    }

    mutating func reject(_ rejection: Rejection) -> Event {
        state = .done
        return .rejected(rejection)
    }
}
