import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The resource server's outgoing HTTP (the issuer's metadata and keys, introspection): one
/// AsyncHTTPClient for the process, never shut down, redirects not followed, 10 s per request,
/// answers up to 1 MiB.
enum ResourceHTTP {
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(
        redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(10))))

    /// The status and body of one request.
    static func send(_ url: URL, method: HTTPMethod = .GET, headers: [String: String], body: Data? = nil) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: .seconds(10))
        let buffer = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), Data(buffer.readableBytesView))
    }
}
