import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The HTTP the device and consent clients need; injectable for tests.
public protocol HTTPTransport: Sendable {
    func get(_ url: URL) async throws -> (Int, Data)
    func postForm(_ url: URL, fields: [String: String]) async throws -> (Int, Data)
    func postJSON(_ url: URL, body: Data, bearer: String?) async throws -> (Int, Data)
    /// A GET with a bearer token (the consent API's session).
    func getJSON(_ url: URL, bearer: String) async throws -> (Int, Data)
    /// A form POST with request headers (a DPoP proof), answering the response's headers too.
    func postForm(_ url: URL, fields: [String: String], headers: [String: String]) async throws -> HTTPReply
}

/// A response with its headers, names in lower case.
public struct HTTPReply: Sendable {
    public var status: Int
    public var body: Data
    public var headers: [String: String]

    public init(status: Int, body: Data, headers: [String: String] = [:]) {
        (self.status, self.body, self.headers) = (status, body, headers)
    }
}

extension HTTPTransport {
    /// For transports without it (test doubles): not found.
    public func getJSON(_ url: URL, bearer: String) async throws -> (Int, Data) { (404, Data()) }

    /// For transports that send no extra headers (test doubles): the plain form POST.
    public func postForm(_ url: URL, fields: [String: String], headers: [String: String]) async throws -> HTTPReply {
        let (status, body) = try await postForm(url, fields: fields)
        return HTTPReply(status: status, body: body)
    }
}

/// `URLSession`, ephemeral: no cookies, no cache.
public struct URLSessionTransport: HTTPTransport {
    let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 30
        configuration.httpAdditionalHeaders = ["User-Agent": "hallpass-cli/0.1"]
        session = URLSession(configuration: configuration)
    }

    public func get(_ url: URL) async throws -> (Int, Data) {
        try await send(URLRequest(url: url))
    }

    public func postForm(_ url: URL, fields: [String: String]) async throws -> (Int, Data) {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(FormEncoding.encode(fields).utf8)
        return try await send(request)
    }

    public func postForm(_ url: URL, fields: [String: String], headers: [String: String]) async throws -> HTTPReply {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        request.httpBody = Data(FormEncoding.encode(fields).utf8)
        do {
            let (data, response) = try await session.data(for: request)
            let http = response as? HTTPURLResponse
            var fields: [String: String] = [:]
            for (name, value) in http?.allHeaderFields ?? [:] {
                if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
            }
            return HTTPReply(status: http?.statusCode ?? 0, body: data, headers: fields)
        } catch {
            throw DeviceFlowError.transport(error.localizedDescription)
        }
    }

    public func getJSON(_ url: URL, bearer: String) async throws -> (Int, Data) {
        var request = URLRequest(url: url)
        request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization")
        return try await send(request)
    }

    public func postJSON(_ url: URL, body: Data, bearer: String?) async throws -> (Int, Data) {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let bearer { request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization") }
        request.httpBody = body
        return try await send(request)
    }

    private func send(_ request: URLRequest) async throws -> (Int, Data) {
        do {
            let (data, response) = try await session.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
        } catch {
            throw DeviceFlowError.transport(error.localizedDescription)
        }
    }
}

/// `application/x-www-form-urlencoded` (RFC 6749 Appendix B).
public enum FormEncoding {
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public static func encode(_ fields: [String: String]) -> String {
        fields.sorted { $0.key < $1.key }.map { key, value in
            "\(escape(key))=\(escape(value))"
        }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
