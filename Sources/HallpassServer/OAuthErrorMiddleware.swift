import HallpassCore
import Hummingbird

/// Turns every failure into RFC 6749 §5.2 JSON: Hummingbird's own errors (404, 405, 413) keep
/// their status, anything unexpected becomes a generic `server_error` with no internals.
struct OAuthErrorMiddleware: RouterMiddleware {
    typealias Context = HallpassRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as OAuthError {
            throw error
        } catch let error as ErrorAnswer {
            throw error
        } catch let error as ConsentAPI.Failure {
            throw error
        } catch let error as HTTPError {
            let description = error.status.reasonPhrase.lowercased()
            if error.status == .notFound { throw ErrorAnswer.notFound(description) }
            throw ErrorAnswer(OAuthError(error.status.code >= 500 ? .serverError : .invalidRequest, description), status: error.status)
        } catch {
            // The path is client-supplied and the log reaches an operator's terminal.
            context.logger.error("unexpected failure on \(TerminalText.sanitize(request.uri.path)): \(String(reflecting: error))")
            throw OAuthError(.serverError, "internal error")
        }
    }
}
