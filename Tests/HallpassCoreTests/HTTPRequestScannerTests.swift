import HallpassCore
import Testing

@Suite struct HTTPRequestScannerTests {
    /// Every event of scanning `text` fed in pieces of `piece` bytes.
    func events(_ text: String, piece: Int = .max, limits: HTTPRequestScanner.Limits = .init()) -> [HTTPRequestScanner.Event] {
        events(Array(text.utf8), piece: piece, limits: limits)
    }

    func events(_ bytes: [UInt8], piece: Int = .max, limits: HTTPRequestScanner.Limits = .init()) -> [HTTPRequestScanner.Event] {
        var scanner = HTTPRequestScanner(limits: limits)
        var found: [HTTPRequestScanner.Event] = []
        var start = 0
        while start < bytes.count {
            var chunk = bytes[start..<min(bytes.count, start + min(piece, bytes.count))]
            start += chunk.count
            while !chunk.isEmpty {
                let (consumed, event) = scanner.scan(chunk)
                chunk = chunk.dropFirst(consumed)
                if let event {
                    found.append(event)
                    if case .rejected = event { return found }
                }
            }
        }
        return found
    }

    func status(_ text: String) -> Int? {
        if case .rejected(let r) = events(text).last { return r.status }
        return nil
    }

    let get = "GET /oauth/jwks.json HTTP/1.1\r\nHost: a\r\n\r\n"

    @Test func aBodilessRequestIsOneHeadWhateverThePieces() {
        for piece in [1, 2, 7, .max] {
            #expect(events(get + get, piece: piece) == [.headComplete(upgrade: false), .headComplete(upgrade: false)])
        }
    }

    @Test func contentLengthBodiesAreSkippedToTheNextRequest() {
        let post = "POST /oauth/token HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\na=b&c"
        for piece in [1, 3, .max] {
            #expect(events(post + get, piece: piece) == [.headComplete(upgrade: false), .requestComplete, .headComplete(upgrade: false)])
        }
    }

    @Test func chunkedBodiesWithExtensionsAndTrailersEnd() {
        let post = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: v\r\n\r\n"
        for piece in [1, 5, .max] {
            #expect(events(post + get, piece: piece) == [.headComplete(upgrade: false), .requestComplete, .headComplete(upgrade: false)])
        }
    }

    @Test func aWebSocketUpgradeIsFlagged() {
        let upgrade = "GET /oauth/device/push HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n"
        #expect(events(upgrade) == [.headComplete(upgrade: true)])
    }

    @Test func headAndBodyProgressIsVisible() {
        var scanner = HTTPRequestScanner()
        #expect(!scanner.isInHead)
        _ = scanner.scan(Array("POST / HTTP/1.1\r\nHo".utf8))
        #expect(scanner.isInHead)
        _ = scanner.scan(Array("st: a\r\nContent-Length: 2\r\n\r\n".utf8))
        #expect(!scanner.isInHead && scanner.isInBody)
        #expect(scanner.scan(Array("ab".utf8)).event == .requestComplete)
        #expect(!scanner.isInBody)
    }

    @Test func malformedRequestLinesAre400() {
        #expect(status("GARBAGE\r\n\r\n") == 400)
        #expect(status("GET  / HTTP/1.1\r\nHost: a\r\n\r\n") == 400)
        #expect(status("G(T / HTTP/1.1\r\nHost: a\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1 \r\nHost: a\r\n\r\n") == 400)
        #expect(status("GET /\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n") == 400)
        #expect(status("GET / FTP/1.1\r\nHost: a\r\n\r\n") == 400)
        #expect(status("GET / HTTP/2.0\r\nHost: a\r\n\r\n") == 505)
        #expect(status("\r\n\r\n\r\n\r\n\r\n\r\n") == 400)
        #expect(events("\r\n" + get) == [.headComplete(upgrade: false)])   // RFC 9112 §2.2
    }

    @Test func lineEndingsMustBeCRLF() {
        #expect(status("GET / HTTP/1.1\nHost: a\n\n") == 400)
        #expect(status("GET / HTTP/1.1\rHost: a\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: a\n\r\n") == 400)
    }

    @Test func oversizedPartsGetTheirStatus() {
        var limits = HTTPRequestScanner.Limits()
        limits.requestLine = 100
        limits.fieldLine = 50
        limits.fieldCount = 3
        limits.headBytes = 200
        func status(_ text: String) -> Int? {
            if case .rejected(let r) = events(text, limits: limits).last { return r.status }
            return nil
        }
        #expect(status("GET /" + String(repeating: "a", count: 200) + " HTTP/1.1\r\n\r\n") == 414)
        #expect(status("GET /a HTTP/1.1" + String(repeating: "1", count: 200) + "\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nX: " + String(repeating: "v", count: 60) + "\r\n\r\n") == 431)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 1\r\nC: 1\r\n\r\n") == 431)
        let many = (0..<3).map { "X\($0): " + String(repeating: "v", count: 45) + "\r\n" }.joined()
        #expect(status("GET / HTTP/1.1\r\n" + many + many + "\r\n") == 431)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\n\r\n") == nil)
    }

    @Test func fieldsFollowRFC9110() {
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nX : b\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nX: a\u{01}b\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nX: caf\u{E9}\r\n\r\n") == nil)   // obs-text is allowed
        #expect(status("GET / HTTP/1.1\r\n\r\n") == 400)                               // no Host
        #expect(status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == 400)
        #expect(status("GET / HTTP/1.0\r\n\r\n") == nil)                               // HTTP/1.0 needs none
    }

    @Test func framingConflictsAreRefused() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\n"
        #expect(status(head + "Content-Length: 1\r\nContent-Length: 1\r\n\r\na") == 400)
        #expect(status(head + "Content-Length: 1, 1\r\n\r\na") == 400)
        #expect(status(head + "Content-Length: -1\r\n\r\n") == 400)
        #expect(status(head + "Content-Length: +1\r\n\r\n") == 400)
        #expect(status(head + "Content-Length: 1234567890123456789\r\n\r\n") == 400)
        #expect(status(head + "Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n") == 400)
        #expect(status(head + "Transfer-Encoding: gzip\r\n\r\n") == 501)
        #expect(status(head + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") == 400)
    }

    @Test func badChunksAreRefusedAfterTheHead() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        for body in ["ZZ\r\n", "\r\n", "2\r\nabcd\r\n", "1x\r\n", "FFFFFFFFFFFFFFFF\r\n", "3;e\u{01}\r\n", "0\r\nbad trailer\r\n\r\n"] {
            let found = events(head + body)
            #expect(found.first == .headComplete(upgrade: false), "\(body)")
            guard case .rejected(let r) = found.last else { Issue.record("accepted \(body.debugDescription)"); continue }
            #expect(r.status == 400)
        }
    }

    @Test func nothingIsFramedAfterARefusal() {
        var scanner = HTTPRequestScanner()
        guard case .rejected = scanner.scan(Array("BAD\r\n".utf8)).event else { Issue.record("accepted"); return }
        guard case .rejected = scanner.scan(Array(get.utf8)).event else { Issue.record("accepted after a refusal"); return }
    }
}
