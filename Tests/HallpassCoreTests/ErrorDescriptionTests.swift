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

    /// Consent-only codes tell a front what happened without a status to decode.
    @Test func consentCodesHaveTheirOwnNamesAndStatuses() {
        #expect(OAuthError(.alreadyDecided).description == "already_decided" && OAuthError(.alreadyDecided).httpStatus == 409)
        #expect(OAuthError(.invalidGrant).httpStatus == 400)
        #expect(OAuthError(.loginRequired).httpStatus == 401 && OAuthError(.tooManyAttempts).httpStatus == 429)
    }
}
