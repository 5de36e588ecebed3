import Foundation
import HallpassCore
import Hummingbird
import NIOCore

/// Reading request bodies the strict way every endpoint needs.
extension Request {
    /// The raw body, at most `context.maxUploadSize` bytes (413 beyond that).
    mutating func bodyBytes(context: HallpassRequestContext) async throws -> [UInt8] {
        do {
            let buffer = try await body.collect(upTo: context.maxUploadSize)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw ErrorAnswer(OAuthError(.invalidRequest, "request body is larger than \(context.maxUploadSize / 1024) KiB"), status: .contentTooLarge)
        } catch {
            // Cut off, badly chunked or too slow (the edge guard ended it): the client's fault,
            // so a 400 and a debug line, never a 500 and an error line anyone could repeat.
            context.logger.debug("request body unreadable: \(String(reflecting: error))")
            throw OAuthError(.invalidRequest, "the request body was cut off or badly framed")
        }
    }

    /// An `application/x-www-form-urlencoded` body (RFC 6749 §4.1.3, RFC 8628 §3.1).
    mutating func form(context: HallpassRequestContext) async throws -> FormBody {
        guard method == .post else { throw ErrorAnswer(OAuthError(.invalidRequest, "use POST"), status: .methodNotAllowed) }
        let mediaType = headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/x-www-form-urlencoded" else {
            throw ErrorAnswer(OAuthError(.invalidRequest, "Content-Type must be application/x-www-form-urlencoded"), status: .unsupportedMediaType)
        }
        if let charset = headers[.contentType]?.lowercased().split(separator: ";").dropFirst()
            .map({ $0.trimmingCharacters(in: .whitespaces) }).first(where: { $0.hasPrefix("charset=") }),
           !["charset=utf-8", "charset=\"utf-8\""].contains(charset) {
            throw ErrorAnswer(OAuthError(.invalidRequest, "form bodies must be UTF-8"), status: .unsupportedMediaType)
        }
        return try FormBody(parsing: try await bodyBytes(context: context))
    }

    /// A JSON body decoded as `T` (consent API); any decoding failure is `invalid_request`.
    mutating func json<T: Decodable>(_ type: T.Type, context: HallpassRequestContext) async throws -> T {
        let mediaType = headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        guard mediaType == "application/json" else {
            throw ErrorAnswer(OAuthError(.invalidRequest, "Content-Type must be application/json"), status: .unsupportedMediaType)
        }
        let bytes = try await bodyBytes(context: context)
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw OAuthError(.invalidRequest, "malformed JSON body")
        }
    }

    /// The bearer token of RFC 6750 §2.1, if present.
    var bearerToken: String? {
        guard let value = headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingCharacters(in: .whitespaces)
    }
}
