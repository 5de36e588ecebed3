import HallpassCore
import Testing

@Suite struct UserCodeTests {
    @Test func generatedCodesUseTheAlphabetAndLength() {
        let random = SeededRandomSource(seed: 1)
        for _ in 0..<500 {
            let code = UserCode.generate(using: random)
            #expect(code.normalized.count == 8)
            #expect(code.normalized.allSatisfy(UserCode.alphabet.contains))
            #expect(code.display.count == 9)
            #expect(Array(code.display)[4] == "-")
        }
    }

    @Test func generationCoversTheWholeAlphabetEvenly() {
        let random = SeededRandomSource(seed: 7)
        var counts: [Character: Int] = [:]
        for _ in 0..<2000 { for c in UserCode.generate(using: random).normalized { counts[c, default: 0] += 1 } }
        #expect(counts.count == 20)
        // 16,000 draws over 20 letters: 800 expected each; rejection sampling keeps it unbiased.
        #expect(counts.values.allSatisfy { (650...950).contains($0) })
    }

    @Test(arguments: ["bcdf-ghjk", "BCDFGHJK", "bcdf ghjk", " BCDF-GHJK ", "b-c-d-f-g-h-j-k"])
    func parsingIsCaseAndSeparatorInsensitive(_ input: String) throws {
        #expect(try UserCode(parsing: input).normalized == "BCDFGHJK")
    }

    // "ß" and "ﬀ" upper-case to two letters: found by the user-code fuzz target (a trap before).
    @Test(arguments: ["BCDF-GHJA", "BCDF-GH0K", "BCDF_GHJK", "BCDF-GHJ\u{1B}", "ВCDF-GHJK", "WFß", "BCDF-GHJß", "BCDF-GHJ\u{FB00}"])
    func impossibleCharactersAreRejected(_ input: String) {
        #expect(throws: UserCodeError.self) { try UserCode(parsing: input) }
        do {
            _ = try UserCode(parsing: input)
        } catch {
            guard case .invalidCharacter = error else { Issue.record("expected invalidCharacter, got \(error)"); return }
        }
    }

    @Test(arguments: ["BCDF-GHJ", "BCDF-GHJKL", "", "----"])
    func wrongLengthsAreRejected(_ input: String) {
        #expect(throws: UserCodeError.wrongLength) { try UserCode(parsing: input) }
    }

    @Test func errorMessagesNeverEchoControlCharacters() {
        do {
            _ = try UserCode(parsing: "BCDF\u{1B}GHJ")
            Issue.record("expected an error")
        } catch {
            #expect(!error.description.contains("\u{1B}"))
            #expect(error.description.contains("<U+001B>"))
        }
    }

    @Test func neighboursDifferInExactlyOnePlace() throws {
        let code = try UserCode(parsing: "BCDFGHJK")
        let neighbours = code.neighbours
        #expect(neighbours.count == 8 * 19)
        #expect(Set(neighbours).count == neighbours.count)
        for n in neighbours {
            #expect(zip(n, code.normalized).filter { $0 != $1 }.count == 1)
        }
    }
}

@Suite struct SecretTokenTests {
    @Test func tokensCarry256BitsAndHashStably() {
        let random = SeededRandomSource(seed: 3)
        let a = SecretToken.generate(using: random)
        let b = SecretToken.generate(using: random)
        #expect(a != b)
        #expect(Base64URL.decode(a)?.count == 32)
        #expect(SecretToken.hash(a) == SecretToken.hash(a))
        #expect(SecretToken.hash(a).count == 64)
        #expect(SecretToken.hash(a) != SecretToken.hash(b))
    }

    @Test func base64URLRoundTrips() {
        let bytes: [UInt8] = [0xfb, 0xff, 0xfe, 0x00, 0x01]
        let text = Base64URL.encode(bytes)
        #expect(!text.contains("+") && !text.contains("/") && !text.contains("="))
        #expect(Base64URL.decode(text).map(Array.init) == bytes)
    }
}
