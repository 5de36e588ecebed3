import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

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

/// AsyncHTTPClient on NIO (no URLSession, so no libcurl: the binary links statically, issue 20).
/// One client for the process, never shut down; no cookies, no cache, and redirects are not
/// followed (an OAuth endpoint that redirects a POST with credentials is refused, not obeyed).
public struct HTTPClientTransport: HTTPTransport {
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                     timeout: .init(connect: .seconds(10), read: .seconds(30)))
        // A refused connection fails the request at once (AsyncHTTPClient would retry until the
        // deadline): the screen says "cannot reach" now, and the poller retries at its interval.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
    /// Answers larger than this are refused (the server's are a few KiB).
    static let maxBody = 4 << 20

    public init() {}

    public func get(_ url: URL) async throws -> (Int, Data) {
        let reply = try await send(url)
        return (reply.status, reply.body)
    }

    public func postForm(_ url: URL, fields: [String: String]) async throws -> (Int, Data) {
        let reply = try await postForm(url, fields: fields, headers: [:])
        return (reply.status, reply.body)
    }

    public func postForm(_ url: URL, fields: [String: String], headers: [String: String]) async throws -> HTTPReply {
        var all = headers
        all["Content-Type"] = "application/x-www-form-urlencoded"
        return try await send(url, method: .POST, headers: all, body: Data(FormEncoding.encode(fields).utf8))
    }

    public func getJSON(_ url: URL, bearer: String) async throws -> (Int, Data) {
        let reply = try await send(url, headers: ["Authorization": "Bearer \(bearer)"])
        return (reply.status, reply.body)
    }

    public func postJSON(_ url: URL, body: Data, bearer: String?) async throws -> (Int, Data) {
        var headers = ["Content-Type": "application/json"]
        if let bearer { headers["Authorization"] = "Bearer \(bearer)" }
        let reply = try await send(url, method: .POST, headers: headers, body: body)
        return (reply.status, reply.body)
    }

    /// One request; the status, the body and the headers (names in lower case). A failure to
    /// connect or to read throws `DeviceFlowError.transport` with a readable reason.
    public func send(_ url: URL, method: HTTPMethod = .GET, headers: [String: String] = [:], body: Data? = nil,
                     timeout: TimeAmount = .seconds(30)) async throws -> HTTPReply {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        request.headers.add(name: "User-Agent", value: "hallpass-cli/0.1")
        for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await Self.client.execute(request, timeout: timeout)
            let buffer = try await response.body.collect(upTo: Self.maxBody)
            var fields: [String: String] = [:]
            for header in response.headers { fields[header.name.lowercased()] = header.value }
            return HTTPReply(status: Int(response.status.code), body: Data(buffer.readableBytesView), headers: fields)
        } catch {
            throw DeviceFlowError.transport(Self.reason(error, url: url))
        }
    }

    /// What went wrong, in words: the NIO error's own description names the cause (connection
    /// refused, a TLS failure, a timeout) without our internals.
    static func reason(_ error: any Error, url: URL) -> String {
        let place = url.host.map { host in url.port.map { "\(host):\($0)" } ?? host } ?? url.absoluteString
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout:
            return "\(place) did not answer in time"
        case let error as HTTPClientError where error == .remoteConnectionClosed:
            return "\(place) closed the connection"
        case is NIOTooManyBytesError:
            return "\(place) sent an answer over \(maxBody >> 20) MiB"
        default:
            let text = String(describing: error)
            return text.localizedCaseInsensitiveContains("refused") ? "connection refused by \(place)" : "\(place): \(text)"
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
