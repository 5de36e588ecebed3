import Foundation
import HallpassCore
import Hummingbird

/// RFC 6749 §5.2: errors are JSON objects with `error` and optional `error_description`,
/// served with `Cache-Control: no-store`. Nothing else from the failure reaches the wire.
extension OAuthError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: httpStatus) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var object: [String: JSON] = ["error": .string(code.description)]
        if let errorDescription { object["error_description"] = .string(errorDescription) }
        if let guessesLeft { object["guesses_left"] = .int(guessesLeft) }
        var headers = HTTPFields.noStore
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let challenge { headers[.wwwAuthenticate] = challenge }
        return JSONResponse.make(object, status: status, headers: headers)
    }
}

extension HTTPFields {
    static let pragmaName = HTTPFields.Element.Name("Pragma")!
    /// RFC 6749 §5.1: token-bearing responses must not be cached.
    static var noStore: HTTPFields {
        [.cacheControl: "no-store", HTTPFields.pragmaName: "no-cache", .contentType: "application/json;charset=UTF-8"]
    }
}

/// JSON bodies built with `JSONSerialization`-free encoding of plain values.
enum JSONResponse {
    static func make(_ object: some Encodable, status: HTTPResponse.Status = .ok,
                     headers: HTTPFields = .noStore) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(object)) ?? Data("{}".utf8)
        var fields = headers
        if fields[.contentType] == nil { fields[.contentType] = "application/json;charset=UTF-8" }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// A JSON value for heterogeneous response objects (token responses, metadata).
enum JSON: Encodable, Sendable, Equatable {
    case string(String), int(Int), bool(Bool), array([JSON]), object([String: JSON]), null

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let v): try container.encode(v)
        case .int(let v): try container.encode(v)
        case .bool(let v): try container.encode(v)
        case .array(let v): try container.encode(v)
        case .object(let v): try container.encode(v)
        case .null: try container.encodeNil()
        }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral {
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: JSON...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, JSON)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }
}
