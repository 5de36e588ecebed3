import Foundation
import HallpassCore
import Hummingbird

/// Every HTML answer Hallpass gives a browser (the authorization endpoint's pages), with the
/// headers that keep them safe: never cached (`no-store`: a page names a live sign-in), never
/// framed (`frame-ancestors 'none'`, clickjacking), no script but Hallpass's own file (the CSP
/// has no `'unsafe-inline'`), no Referer to wherever the browser goes next (the page URL holds
/// its handle), no content sniffing. Every value a request supplied is escaped (`HTMLText`).
enum WebPage {
    /// `connect-src` names the push channel's origin (`ws:`/`wss:`, which `'self'` does not
    /// cover in every browser).
    static func securityHeaders(contentType: String, pushOrigin: String? = nil) -> HTTPFields {
        var policy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; base-uri 'none'; "
            + "form-action 'none'; frame-ancestors 'none'"
        if let pushOrigin { policy += "; connect-src \(pushOrigin)" }
        return [
            .contentType: contentType, .cacheControl: "no-store", .contentSecurityPolicy: policy,
            .init("Referrer-Policy")!: "no-referrer", .init("X-Content-Type-Options")!: "nosniff",
            .init("X-Frame-Options")!: "DENY",
        ]
    }

    /// A page; `pushOrigin` is the WebSocket URL whose origin its script may connect to.
    static func html(_ html: String, status: HTTPResponse.Status = .ok, pushURI: String? = nil) -> Response {
        Response(status: status, headers: securityHeaders(contentType: "text/html; charset=utf-8", pushOrigin: pushURI.flatMap(origin(of:))),
                 body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// An error the person reads; the browser stays here (RFC 6749 §4.1.2.1).
    static func error(_ message: String, status: HTTPResponse.Status = .badRequest) -> Response {
        html(document(title: "Sign-in refused", body: "<h1>Sign-in refused</h1>\n<p>\(HTMLText.untrusted(message))</p>"), status: status)
    }

    /// A short page that tells how a sign-in ended.
    static func notice(title: String, _ message: String) -> Response {
        html(document(title: title, body: "<h1>\(HTMLText.escape(title))</h1>\n<p>\(HTMLText.escape(message))</p>"))
    }

    /// 303 See Other: the browser follows with a GET (RFC 9110 §15.4.4), whatever brought it here.
    static func redirect(_ location: String) -> Response {
        var headers = securityHeaders(contentType: "text/plain; charset=utf-8")
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }

    /// A HEAD answer: `response`'s status and headers, with the length its body would have.
    static func headOnly(_ response: Response) -> Response {
        var headers = response.headers
        if headers[.contentLength] == nil, let length = response.body.contentLength { headers[.contentLength] = String(length) }
        return Response(status: response.status, headers: headers)
    }

    /// Hallpass's own script, the only one a page may run.
    static func script(_ source: String) -> Response {
        Response(status: .ok, headers: securityHeaders(contentType: "text/javascript; charset=utf-8"),
                 body: .init(byteBuffer: ByteBuffer(string: source)))
    }

    static func document(title: String, body: String, extraHead: String = "", bodyAttributes: String = "") -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>\(HTMLText.escape(title)) — Hallpass</title>
        \(extraHead)</head>
        <body\(bodyAttributes)>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    /// `ws://host:port` of a WebSocket URL, for `connect-src`.
    static func origin(of uri: String) -> String? {
        guard let components = URLComponents(string: uri), let scheme = components.scheme, let host = components.host else { return nil }
        let shownHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "\(scheme)://\(shownHost)" + (components.port.map { ":\($0)" } ?? "")
    }
}
