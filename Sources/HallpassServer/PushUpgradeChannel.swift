import HallpassCore
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import NIOWebSocket

/// Hummingbird's child channel for `hallpass serve`: HTTP/1.1 for every route, or — on the two
/// push paths — an RFC 6455 upgrade to a push socket that lives entirely in NIO handlers
/// (`PushSocketHandler`): no Swift task and no async channel per waiting socket, which is what
/// lets one replica hold tens of thousands of waiting devices. Modelled on hummingbird-websocket's
/// `HTTP1WebSocketUpgradeChannel`, whose per-socket task and buffers cost ~40 KiB a socket.
struct PushUpgradeChannel: ServerChildChannel, HTTPChannelHandler {
    enum Negotiated: Sendable {
        /// NIO owns the socket from here; nothing is left for Hummingbird to run.
        case push
        case http(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>)
        /// An upgrade was asked for and refused; its request was consumed by the upgrader.
        case refused(NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, ErrorAnswer)
        /// Over a connection limit: closed at accept, nothing to run.
        case closed
    }

    struct Value: ServerChildChannelValue {
        let negotiated: EventLoopFuture<Negotiated>
        let channel: any Channel
    }

    let responder: HTTPChannelHandler.Responder
    let hub: DevicePushHub
    let admission: HTTPConnectionAdmission
    let http1: HTTP1Channel.Configuration

    init(responder: @escaping HTTPChannelHandler.Responder, hub: DevicePushHub, admission: HTTPConnectionAdmission) {
        self.responder = responder
        self.hub = hub
        self.admission = admission
        // Between requests a kept-alive connection waits at most idleTimeout for the next head.
        self.http1 = HTTP1Channel.Configuration(idleTimeout: .seconds(admission.limits.idleTimeout))
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            // A refused connection is closed here: no handler, no buffer, no async channel.
            // (Failing this future instead would end Hummingbird's accept loop.)
            guard admission.admit(channel) else {
                channel.close(promise: nil)
                return Value(negotiated: channel.eventLoop.makeSucceededFuture(.closed), channel: channel)
            }
            // Last so far: behind TLS when there is TLS, in front of the HTTP decoder added next.
            try channel.pipeline.syncOperations.addHandler(HTTPEdgeGuard(admission: admission))
            let hub = self.hub
            let refusal = NIOLoopBoundBox<ErrorAnswer?>(nil, eventLoop: channel.eventLoop)
            let upgrader = NIOTypedWebSocketServerUpgrader<Negotiated>(
                maxFrameSize: hub.limits.maxFrame,
                shouldUpgrade: { channel, head in
                    let admitted = hub.admit(uri: head.uri, forwardedFor: head.headers[TrustedProxies.headerName], channel: channel)
                    if !admitted { refusal.value = hub.refusal(for: head.uri) }
                    return channel.eventLoop.makeSucceededFuture(admitted ? HTTPHeaders() : nil)
                },
                upgradePipelineHandler: { channel, head in
                    channel.eventLoop.makeCompletedFuture {
                        try hub.installSocket(on: channel, uri: head.uri, forwardedFor: head.headers[TrustedProxies.headerName])
                        try channel.pipeline.syncOperations.handler(type: HTTPEdgeGuard.self).becomePassthrough()
                        return .push
                    }
                }
            )
            let notUpgrading = NIOTypedHTTPServerUpgradeConfiguration<Negotiated>(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let http = try Self.httpChannel(channel, configuration: self.http1, logger: logger)
                        return refusal.value.map { .refused(http, $0) } ?? .http(http)
                    }
                }
            )
            var configuration = NIOUpgradableHTTPServerPipelineConfiguration<Negotiated>(upgradeConfiguration: notUpgrading)
            configuration.enablePipelining = false          // HTTP is pipelined by NIOAsyncChannel
            configuration.enableErrorHandling = false       // Hummingbird answers errors
            configuration.enableResponseHeaderValidation = false
            configuration.decoderConfiguration.maxHeaderFieldSize = http1.httpDecoder.maxHeaderFieldSize
            configuration.decoderConfiguration.maxHeaderListSize = http1.httpDecoder.maxHeaderListSize
            configuration.decoderConfiguration.maxHeaderFieldCount = http1.httpDecoder.maxHeaderFieldCount
            let negotiated = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
            return Value(negotiated: negotiated, channel: channel)
        }
    }

    /// The same pipeline tail as Hummingbird's `HTTP1Channel`.
    static func httpChannel(
        _ channel: any Channel, configuration: HTTP1Channel.Configuration, logger: Logger
    ) throws -> NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart> {
        let pipeline = channel.pipeline.syncOperations
        try pipeline.addHandler(PersistenceGuard())
        try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
        if let edge = try? pipeline.handler(type: HTTPEdgeGuard.self) { try pipeline.addHandler(ResponseEndObserver(edge: edge)) }
        try pipeline.addHandlers(configuration.additionalChannelHandlers())
        try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: configuration.idleTimeout.map { .init($0) }, logger: logger))
        return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
    }

    func handle(value: Value, logger: Logger) async {
        do {
            switch try await value.negotiated.get() {
            case .push, .closed: return
            case .http(let http): await handleHTTP(asyncChannel: http, logger: logger)
            case .refused(let http, let error): try await Self.answer(http, with: error)
            }
        } catch let error as ChannelError where error == .inputClosed {
            logger.trace("connection closed before a request")
        } catch {
            logger.debug("connection setup failed: \(error)")
        }
    }
}

extension PushUpgradeChannel {
    /// Answers a refused upgrade with its OAuth error and closes the connection.
    static func answer(_ http: NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>, with error: ErrorAnswer) async throws {
        let bytes = error.bodyBytes
        var headers = error.headers
        headers[.connection] = "close"
        headers[.contentLength] = String(bytes.count)
        try await http.executeThenClose { _, outbound in
            try await outbound.write(contentsOf: [
                .head(HTTPResponse(status: error.status, headerFields: headers)),
                .body(ByteBuffer(bytes: bytes)),
                .end(nil),
            ])
        }
    }
}

extension PushUpgradeChannel {
    /// NIO upgrades only a connection's first request. Clients that pool connections (aiohttp)
    /// may send the upgrade on a kept-alive one; like hummingbird-websocket, answer it with a
    /// 307 to the same path and close, so the client retries on a fresh connection.
    static func redirectingLateUpgrades(_ responder: @escaping HTTPChannelHandler.Responder) -> HTTPChannelHandler.Responder {
        struct CloseAfterRedirect: Error {}
        return { request, writer, channel in
            guard request.headers[.upgrade]?.lowercased() == "websocket" else {
                return try await responder(request, writer, channel)
            }
            let headers: HTTPFields = [.connection: "close", .location: request.uri.description, .contentLength: "0"]
            try await writer.writeResponse(HTTPResponse(status: .temporaryRedirect, headerFields: headers))
            throw CloseAfterRedirect()
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 plus the push sockets of `hub`.
    static func http1WithPush(hub: DevicePushHub, admission: HTTPConnectionAdmission) -> HTTPServerBuilder {
        .init { responder in
            PushUpgradeChannel(responder: PushUpgradeChannel.redirectingLateUpgrades(responder), hub: hub, admission: admission)
        }
    }
}
