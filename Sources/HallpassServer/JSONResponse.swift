import Foundation
import HallpassCore
import Hummingbird

/// JSON response bodies: every body is a Codable type, written by JSONEncoder. No path keeps a
/// hand-written encoder: on a pending poll JSONEncoder costs 1.3 µs more than the old writer
/// (about 1 % of the poll), and it writes a token response 4 µs faster (BENCHMARKS.md, "Response bodies").
enum JSONResponse {
    /// A Codable body. An encoding failure throws (`OAuthErrorMiddleware` answers 500
    /// `server_error` and logs the cause), never a 200 with an empty object.
    static func make(_ object: some Encodable, status: HTTPResponse.Status = .ok,
                     headers: HTTPFields = .noStore) throws -> Response {
        let data: Data
        do { data = try encoder.encode(object) } catch {
            throw ResponseEncodingFailure(type: String(describing: type(of: object)), cause: error)
        }
        return make(bytes: data, status: status, headers: headers)
    }

    /// A body already encoded.
    static func make(bytes: some Sequence<UInt8>, status: HTTPResponse.Status = .ok, headers: HTTPFields = .noStore) -> Response {
        var fields = headers
        if fields[.contentType] == nil { fields[.contentType] = "application/json;charset=UTF-8" }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Keys sorted (stable answers), `/` unescaped (URLs in metadata stay readable).
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Why a response body could not be written (for the log; the client sees `server_error`).
    struct ResponseEncodingFailure: Error, CustomStringConvertible {
        let type: String
        let cause: any Error
        var description: String { "could not encode a \(type) response: \(cause)" }
    }
}
