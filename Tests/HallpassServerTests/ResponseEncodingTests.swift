import Foundation
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
}
