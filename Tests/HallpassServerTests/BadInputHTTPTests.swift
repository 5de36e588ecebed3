import Foundation
import HallpassCore
import HallpassServer
import Hummingbird
import HummingbirdTesting
import Testing

/// Bad input never yields a 500 or a half-written grant; every error is RFC 6749 §5.2 JSON.
@Suite struct BadInputHTTPTests {
    @Test func malformedBodies() async throws {
        let h = try await Harness()
        try await h.test { client in
            let form = "application/x-www-form-urlencoded"
            expectOAuthError(try await client.raw("/oauth/token", method: .post, bytes: Array("grant_type=%C3%28".utf8), contentType: form),
                             "invalid_request", .badRequest)
            expectOAuthError(try await client.raw("/oauth/token", method: .post, bytes: [0x67, 0x3D, 0xFF, 0xFE], contentType: form),
                             "invalid_request", .badRequest)
            expectOAuthError(try await client.raw("/oauth/token", method: .post, body: "grant_type=%zz", contentType: form),
                             "invalid_request", .badRequest)
            expectOAuthError(try await client.raw("/oauth/device_authorization", method: .post, body: "&&&=x", contentType: form),
                             "invalid_request", .badRequest)
        }
    }

    @Test func repeatedParametersAreInvalidRequest() async throws {
        let h = try await Harness()
        try await h.test { client in
            let reply = try await client.raw("/oauth/device_authorization", method: .post,
                                             body: "client_id=tv&scope=read&scope=write", contentType: "application/x-www-form-urlencoded")
            expectOAuthError(reply, "invalid_request", .badRequest)
            #expect(reply.string("error_description")?.contains("scope") == true)
            let token = try await client.raw("/oauth/token", method: .post,
                                             body: "grant_type=refresh_token&grant_type=refresh_token&client_id=tv",
                                             contentType: "application/x-www-form-urlencoded")
            expectOAuthError(token, "invalid_request", .badRequest)
        }
    }

    @Test func wrongContentTypeOrCharset() async throws {
        let h = try await Harness()
        try await h.test { client in
            expectOAuthError(try await client.raw("/oauth/token", method: .post, body: #"{"grant_type":"x"}"#, contentType: "application/json"),
                             "invalid_request", .unsupportedMediaType)
            expectOAuthError(try await client.raw("/oauth/device_authorization", method: .post, body: "client_id=tv"),
                             "invalid_request", .unsupportedMediaType)
            expectOAuthError(try await client.raw("/oauth/token", method: .post, body: "grant_type=x",
                                                  contentType: "application/x-www-form-urlencoded; charset=iso-8859-1"),
                             "invalid_request", .unsupportedMediaType)
            // A UTF-8 charset parameter is fine.
            let ok = try await client.raw("/oauth/device_authorization", method: .post, body: "client_id=tv",
                                          contentType: "application/x-www-form-urlencoded; charset=UTF-8")
            #expect(ok.status == .ok)
            expectOAuthError(try await client.raw("/consent/login", method: .post, body: "username=a", contentType: "text/plain"),
                             "invalid_request", .unsupportedMediaType)
            expectOAuthError(try await client.raw("/consent/login", method: .post, body: "{not json", contentType: "application/json"),
                             "invalid_request", .badRequest)
        }
    }

    @Test func oversizedBodiesAre413() async throws {
        let h = try await Harness()
        try await h.test { client in
            let huge = "client_id=tv&scope=" + String(repeating: "a", count: 70 * 1024)
            expectOAuthError(try await client.raw("/oauth/device_authorization", method: .post, body: huge,
                                                  contentType: "application/x-www-form-urlencoded"),
                             "invalid_request", .contentTooLarge)
        }
    }

    @Test func unknownClientsAndBadCredentials() async throws {
        let h = try await Harness()
        try await h.test { client in
            expectOAuthError(try await client.form("/oauth/device_authorization", [("client_id", "ghost")]), "invalid_client", .unauthorized)
            expectOAuthError(try await client.form("/oauth/device_authorization", [("scope", "read")]), "invalid_client", .unauthorized)
            // Credentials via the Authorization header: 401 with a challenge (RFC 6749 §5.2).
            let basic = try await client.form("/oauth/device_authorization", [("scope", "read")], headers: .basic("backend", "wrong"))
            expectOAuthError(basic, "invalid_client", .unauthorized)
            #expect(basic.headers[.wwwAuthenticate] == #"Basic realm="hallpass", charset="UTF-8""#)
            let ghost = try await client.form("/oauth/device_authorization", [("scope", "read")], headers: .basic("ghost", "x"))
            expectOAuthError(ghost, "invalid_client", .unauthorized)
            // Via the body: still 401, and RFC 9110 §15.5.2 wants the challenge on every 401.
            let post = try await client.form("/oauth/device_authorization", [("client_id", "backend"), ("client_secret", "wrong")])
            expectOAuthError(post, "invalid_client", .unauthorized)
            #expect(post.headers[.wwwAuthenticate] == #"Basic realm="hallpass", charset="UTF-8""#)
            for reply in [try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", "x")]),
                          try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", "ghost")]),
                          try await client.form("/oauth/introspect", [("token", "x")]),
                          try await client.form("/oauth/revoke", [("token", "x")])] {
                expectOAuthError(reply, "invalid_client", .unauthorized)
                #expect(reply.headers[.wwwAuthenticate] == #"Basic realm="hallpass", charset="UTF-8""#, "\(reply.raw)")
            }
            // A confidential client may not act as a public one.
            expectOAuthError(try await client.form("/oauth/device_authorization", [("client_id", "backend")]), "invalid_client", .unauthorized)
            // Two authentication methods at once.
            expectOAuthError(try await client.form("/oauth/device_authorization", [("client_secret", Harness.confidentialSecret)],
                                                   headers: .basic("backend", Harness.confidentialSecret)), "invalid_request", .badRequest)
            let good = try await client.form("/oauth/device_authorization", [("scope", "read")], headers: .basic("backend", Harness.confidentialSecret))
            #expect(good.status == .ok)
        }
    }

    @Test func scopesOutsideTheCeiling() async throws {
        let h = try await Harness()
        try await h.test { client in
            expectOAuthError(try await client.form("/oauth/device_authorization", [("client_id", "kiosk"), ("scope", "read write")]),
                             "invalid_scope", .badRequest)
            expectOAuthError(try await client.form("/oauth/device_authorization", [("client_id", "tv"), ("scope", "read\u{7F}")]),
                             "invalid_scope", .badRequest)
        }
    }

    @Test func unsupportedAndUnauthorizedGrantTypes() async throws {
        let h = try await Harness()
        try await h.test { client in
            expectOAuthError(try await client.form("/oauth/token", [("grant_type", "password"), ("client_id", "tv")]),
                             "unsupported_grant_type", .badRequest)
            // RFC 6749 §5.2: the description quotes what was sent in the allowed characters only.
            let odd = try await client.form("/oauth/token", [("grant_type", "pa\"ss\\wörd“”"), ("client_id", "tv")])
            expectOAuthError(odd, "unsupported_grant_type", .badRequest)
            #expect(odd.string("error_description") == "grant_type 'pa'ss/wU+00F6rd''' is not supported", "\(odd.raw)")
            expectOAuthError(try await client.form("/oauth/token", [("client_id", "tv")]), "invalid_request", .badRequest)
            expectOAuthError(try await client.form("/oauth/token", [("grant_type", "urn:ietf:params:oauth:grant-type:device_code"), ("client_id", "tv")]),
                             "invalid_request", .badRequest)
            expectOAuthError(try await client.form("/oauth/device_authorization", [("client_id", "refresher")]),
                             "unauthorized_client", .badRequest)
            expectOAuthError(try await client.form("/oauth/token", [("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", "kiosk")]),
                             "unauthorized_client", .badRequest)
        }
    }

    @Test func unknownRoutesAndMethodsAreJSONErrors() async throws {
        let h = try await Harness()
        try await h.test { client in
            let missing = try await client.raw("/oauth/nothing-here")
            #expect(missing.status == .notFound)
            #expect(missing.error == "not_found")
            let get = try await client.raw("/oauth/token")
            #expect(get.status.code >= 400 && get.status.code < 500)
            #expect(get.error != nil)
        }
    }

    @Test func failedRequestsWriteNothing() async throws {
        let h = try await Harness()
        try await h.test { client in
            for _ in 0..<5 {
                _ = try await client.form("/oauth/device_authorization", [("client_id", "kiosk"), ("scope", "write")])
                _ = try await client.raw("/oauth/device_authorization", method: .post, body: "client_id=tv&client_id=tv",
                                         contentType: "application/x-www-form-urlencoded")
            }
            #expect(try await h.store.sweep(at: h.clock.now.addingTimeInterval(10 * 86400)) == 0)
        }
    }
}
