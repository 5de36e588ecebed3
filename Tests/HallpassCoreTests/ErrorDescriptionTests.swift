import Foundation
import HallpassCore
import Testing

/// RFC 6749 §5.2: `error_description` uses %x20-21 / %x23-5B / %x5D-7E only.
@Suite struct ErrorDescriptionTests {
    @Test(arguments: [
        ("not a code: “ß” cannot appear", "not a code: 'U+00DF' cannot appear"),
        ("grant_type \"x\" is not supported", "grant_type 'x' is not supported"),
        ("RFC 6749 §3.3 does not allow it", "RFC 6749 section 3.3 does not allow it"),
        ("1–128 characters…", "1-128 characters..."),
        ("a\\b", "a/b"), ("line\nbreak\ttab", "line break tab"), ("emoji 🙂", "emoji U+1F642"),
        ("plain ASCII stays: ~!#$%&'()*+,-./:;<=>?@[]^_`{|}", "plain ASCII stays: ~!#$%&'()*+,-./:;<=>?@[]^_`{|}"),
    ])
    func descriptionsKeepToTheRule(_ input: String, _ expected: String) {
        let error = OAuthError(.invalidRequest, input)
        #expect(error.errorDescription == expected)
        #expect(OAuthError.isWireDescription(expected))
    }

    @Test func everyScalarMapsIntoTheAllowedSet() {
        var all = ""
        for value in UInt32(0)...0x2FFF { if let scalar = Unicode.Scalar(value) { all.unicodeScalars.append(scalar) } }
        all += "\u{1F642}\u{E0041}\u{10FFFF}"
        let out = OAuthError.wireDescription(all)
        #expect(OAuthError.isWireDescription(out))
        #expect(!OAuthError.isWireDescription("\""))
        #expect(!OAuthError.isWireDescription("\\"))
        #expect(!OAuthError.isWireDescription("é"))
        #expect(OAuthError.isWireDescription(" !#[]~"))
    }

    /// Consent-only codes tell a front what happened without a status to decode; the statuses
    /// are the server's (ErrorAnswerTests).
    @Test func consentCodesHaveTheirOwnNamesAndTravelInTheErrorBody() throws {
        #expect(ConsentAPI.ErrorCode.alreadyDecided.rawValue == "already_decided")
        #expect(ConsentAPI.ErrorCode.loginRequired.rawValue == "login_required")
        #expect(ConsentAPI.ErrorCode.tooManyAttempts.rawValue == "too_many_attempts")
        #expect(ConsentAPI.ErrorCode.invalidGrant == ConsentAPI.ErrorCode(.invalidGrant))
        let failure = ConsentAPI.Failure(.tooManyAttempts, "wait “60” seconds", guessesLeft: 0, retryAfter: 60)
        #expect(failure.message == "wait '60' seconds")   // RFC 6749 §5.2's character set
        let json = try JSONEncoder().encode(failure.body)
        let object = try JSONSerialization.jsonObject(with: json) as? [String: Any]
        #expect(object?["error"] as? String == "too_many_attempts" && object?["retry_after"] as? Int == 60
                && object?["guesses_left"] as? Int == 0 && object?["error_description"] as? String == "wait '60' seconds")
        #expect(ConsentAPI.Failure(try JSONDecoder().decode(ErrorBody.self, from: json)) == failure)
        // A code this build does not know still decodes, and is shown by its description.
        let unknown = try JSONDecoder().decode(ErrorBody.self, from: Data(#"{"error":"new_code"}"#.utf8))
        #expect(ConsentAPI.Failure(unknown).code.rawValue == "new_code" && ConsentAPI.Failure(unknown).message == "new_code")
    }
}
