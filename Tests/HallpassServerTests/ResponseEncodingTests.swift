import Foundation
import HallpassCore
@testable import HallpassServer
import Hummingbird
import HummingbirdTesting
import Testing

/// A body that cannot be encoded is a 500 `server_error` (logged), never a 200 with `{}`.
@Suite struct ResponseEncodingTests {
    struct Unencodable: Encodable {
        func encode(to encoder: any Encoder) throws {
            throw EncodingError.invalidValue(Double.nan, .init(codingPath: [], debugDescription: "NaN"))
        }
    }

    @Test func anEncodingFailureIsAServerErrorNotAnEmptyObject() async throws {
        #expect(throws: JSONResponse.ResponseEncodingFailure.self) { try JSONResponse.make(Unencodable()) }
        let router = Router(context: HallpassRequestContext.self)
        router.add(middleware: OAuthErrorMiddleware())
        router.get("broken") { _, _ in try JSONResponse.make(Unencodable()) }
        struct Fine: Encodable { let a = 1 }
        router.get("fine") { _, _ in try JSONResponse.make(Fine()) }
        try await Application(router: router).test(.router) { client in
            let broken = try await client.raw("/broken")
            expectOAuthError(broken, "server_error", .internalServerError)
            #expect(broken.raw != "{}")
            #expect(try await client.raw("/fine").raw == #"{"a":1}"#)
        }
    }

    /// Bodies leave out what they do not have: RFC 7662 §2.2's inactive answer is exactly
    /// `{"active":false}`, and an error carries only the fields it has.
    @Test func absentFieldsAreLeftOut() throws {
        func text(_ value: some Encodable) throws -> String { String(decoding: try JSONResponse.encoder.encode(value), as: UTF8.self) }
        #expect(try text(IntrospectionResponse.inactive) == #"{"active":false}"#)
        #expect(try text(ErrorBody(error: "authorization_pending")) == #"{"error":"authorization_pending"}"#)
        #expect(try text(TokenResponse(accessToken: "a", expiresIn: 60, scope: "s"))
                == #"{"access_token":"a","expires_in":60,"scope":"s","token_type":"Bearer"}"#)
        #expect(try text(HealthAnswer(status: "ok")) == #"{"status":"ok"}"#)
    }

    /// Core's errors know codes; the statuses, challenges and `Retry-After` are the server's.
    @Test func errorAnswersMapCodesToStatusesAndChallenges() {
        #expect(ErrorAnswer(OAuthError(.invalidGrant)).status == .badRequest)
        #expect(ErrorAnswer(OAuthError(.invalidClient)).status == .unauthorized)
        #expect(ErrorAnswer(OAuthError(.invalidClient)).challenge == ErrorAnswer.basicChallenge)
        #expect(ErrorAnswer(OAuthError(.invalidToken)).challenge?.hasPrefix("Bearer") == true)
        #expect(ErrorAnswer(OAuthError(.insufficientScope)).status == .forbidden)
        #expect(ErrorAnswer(OAuthError(.serverError)).status == .internalServerError)
        #expect(ErrorAnswer(OAuthError(.temporarilyUnavailable), retryAfter: 5).headers[.retryAfter] == "5")
        #expect(ErrorAnswer(OAuthError(.invalidRequest), status: .unsupportedMediaType).status == .unsupportedMediaType)
        #expect(ErrorAnswer(OAuthError(.invalidRequest)).challenge == nil)
        #expect(ErrorAnswer(ConsentAPI.Failure(.alreadyDecided, "x")).status == .conflict)
        #expect(ErrorAnswer(ConsentAPI.Failure(.loginRequired, "x")).status == .unauthorized)
        #expect(ErrorAnswer(ConsentAPI.Failure(.loginRequired, "x")).challenge == "Bearer realm=\"hallpass-consent\"")
        #expect(ErrorAnswer(ConsentAPI.Failure(.accessDenied, "x")).status == .unauthorized)
        #expect(ErrorAnswer(ConsentAPI.Failure(.tooManyAttempts, "x", retryAfter: 9)).status == .tooManyRequests)
        #expect(ErrorAnswer(ConsentAPI.Failure(.tooManyAttempts, "x", retryAfter: 9)).headers[.retryAfter] == "9")
        #expect(ErrorAnswer(ConsentAPI.Failure(.invalidGrant, "x", guessesLeft: 2)).status == .badRequest)
        #expect(ErrorAnswer.notFound("x").status == .notFound && ErrorAnswer.notFound("x").body.error == "not_found")
    }
}
