import Hummingbird
import Logging

/// The access log (`access_log = true`, `serve --access-log`; issue 21): one line per request at
/// `info`, after the answer is known, with the request id, method, route, status, duration and
/// the client's address.
///
/// The route is the matched pattern (`/oauth/authorize/request/{id}`), never the request target:
/// a target may carry a code or a state in its query, and it is a stranger's text. A request that
/// matched no route is logged as `unmatched`. Nothing of the body or headers is logged.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = HallpassRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            log(request, context, status: response.status.code, since: start)
            return response
        } catch {
            log(request, context, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: start)
            throw error
        }
    }

    func log(_ request: Request, _ context: Context, status: Int, since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.info("request", metadata: [
            "method": .string(request.method.rawValue),
            // Hummingbird names a request no route took "NotFound": not a path, and not ours.
            "route": .string(context.endpointPath.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "unmatched"),
            "status": .stringConvertible(status),
            "duration_ms": .stringConvertible((milliseconds * 1000).rounded() / 1000),
            "client": .string(context.clientIP),
        ])
    }
}
