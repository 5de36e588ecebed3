import Foundation
import HallpassCore
import Hummingbird

/// RFC 6749 §5.2: errors are JSON objects with `error` and optional `error_description`,
/// served with `Cache-Control: no-store`. Nothing else from the failure reaches the wire.
extension OAuthError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: httpStatus) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        JSONResponse.make(wireObject, status: status, headers: wireHeaders)
    }

    /// The JSON object on the wire.
    var wireObject: [String: JSON] {
        var object: [String: JSON] = ["error": .string(code.description)]
        if let errorDescription { object["error_description"] = .string(errorDescription) }
        if let guessesLeft { object["guesses_left"] = .int(guessesLeft) }
        if let retryAfter { object["retry_after"] = .int(retryAfter) }
        return object
    }

    /// `no-store`, and `Retry-After` / `WWW-Authenticate` when they apply.
    var wireHeaders: HTTPFields {
        var headers = HTTPFields.noStore
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let challenge = challenge ?? defaultChallenge { headers[.wwwAuthenticate] = challenge }
        return headers
    }

    /// RFC 9110 §15.5.2: a 401 always carries a challenge. A client that failed to authenticate is
    /// told the scheme it may use (RFC 6749 §2.3.1, Basic); a consent API caller, the session
    /// bearer it must present (RFC 6750 §3); a bearer token that failed, why.
    static let basicChallenge = "Basic realm=\"hallpass\", charset=\"UTF-8\""

    var defaultChallenge: String? {
        guard httpStatus == 401 else { return nil }
        switch code {
        case .invalidClient: return Self.basicChallenge
        case .invalidToken: return "Bearer realm=\"hallpass\", error=\"invalid_token\""
        default: return "Bearer realm=\"hallpass-consent\""
        }
    }
}

extension HTTPFields {
    static let pragmaName = HTTPFields.Element.Name("Pragma")!
    /// RFC 6749 §5.1: token-bearing responses must not be cached.
    static var noStore: HTTPFields {
        [.cacheControl: "no-store", HTTPFields.pragmaName: "no-cache", .contentType: "application/json;charset=UTF-8"]
    }
}

/// JSON response bodies.
enum JSONResponse {
    /// Hot paths (every token-endpoint answer): serialized by hand, keys sorted.
    static func make(_ object: [String: JSON], status: HTTPResponse.Status = .ok,
                     headers: HTTPFields = .noStore) -> Response {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        JSON.object(object).write(to: &bytes)
        return response(ByteBuffer(bytes: bytes), status: status, headers: headers)
    }

    /// A Codable body. An encoding failure throws (`OAuthErrorMiddleware` answers 500
    /// `server_error` and logs the cause), never a 200 with an empty object.
    static func make(_ object: some Encodable, status: HTTPResponse.Status = .ok,
                     headers: HTTPFields = .noStore) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(object) } catch {
            throw ResponseEncodingFailure(type: String(describing: type(of: object)), cause: error)
        }
        return response(ByteBuffer(bytes: data), status: status, headers: headers)
    }

    /// Why a response body could not be written (for the log; the client sees `server_error`).
    struct ResponseEncodingFailure: Error, CustomStringConvertible {
        let type: String
        let cause: any Error
        var description: String { "could not encode a \(type) response: \(cause)" }
    }

    private static func response(_ body: ByteBuffer, status: HTTPResponse.Status, headers: HTTPFields) -> Response {
        var fields = headers
        if fields[.contentType] == nil { fields[.contentType] = "application/json;charset=UTF-8" }
        return Response(status: status, headers: fields, body: .init(byteBuffer: body))
    }
}

